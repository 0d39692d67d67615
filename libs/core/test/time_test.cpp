#include "tickflow/core/time.hpp"

#include <gtest/gtest.h>

namespace tickflow {
namespace {

TEST(TimeTest, FormatsIso8601WithExactFraction) {
  EXPECT_EQ(FormatIso8601(UnixNanos{0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatIso8601(UnixNanos{1561939203172000000}), "2019-07-01T00:00:03.172Z");
  EXPECT_EQ(FormatIso8601(UnixNanos{1561939203172500000}), "2019-07-01T00:00:03.172500Z");
  EXPECT_EQ(FormatIso8601(UnixNanos{1561939203000000001}), "2019-07-01T00:00:03.000000001Z");
  EXPECT_EQ(FormatIso8601(UnixNanos{-1}), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatIso8601(UnixNanos{951782400LL * kNanosPerSecond}), "2000-02-29T00:00:00Z");
}

TEST(TimeTest, ParsesUnixSeconds) {
  UnixNanos t;
  ASSERT_TRUE(ParseUnixSeconds("1561939203.172", &t));
  EXPECT_EQ(t.ns, 1561939203172000000);
  ASSERT_TRUE(ParseUnixSeconds("1561939203", &t));
  EXPECT_EQ(t.ns, 1561939203000000000);
  ASSERT_TRUE(ParseUnixSeconds("0.000000001", &t));
  EXPECT_EQ(t.ns, 1);
  EXPECT_FALSE(ParseUnixSeconds("", &t));
  EXPECT_FALSE(ParseUnixSeconds("-5", &t));
  EXPECT_FALSE(ParseUnixSeconds("1.", &t));
  EXPECT_FALSE(ParseUnixSeconds("1.1234567891", &t));
  EXPECT_FALSE(ParseUnixSeconds("99999999999", &t));
  EXPECT_FALSE(ParseUnixSeconds("9999999999", &t));  // year 2286: beyond int64 ns
  EXPECT_FALSE(ParseUnixSeconds("12x", &t));
}

TEST(TimeTest, ParsesUserTimes) {
  EXPECT_EQ(ParseTime("2019-07-01")->ns, 1561939200000000000);
  EXPECT_EQ(ParseTime("2019-07-01T00:00:03.172Z")->ns, 1561939203172000000);
  EXPECT_EQ(ParseTime("2019-07-01 00:30")->ns, 1561939200000000000 + 30 * kNanosPerMinute);
  EXPECT_EQ(ParseTime("2019-07-01T00:00:00+00:00")->ns, 1561939200000000000);
  EXPECT_EQ(ParseTime("1561939203.172")->ns, 1561939203172000000);
  for (const char* bad : {"", "yesterday", "2019-13-01", "2019-02-30", "2019-07-01T25:00",
                          "2019-07-01T00:00:00+02:00", "2019-07-01X"}) {
    auto r = ParseTime(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("bad time"), std::string::npos);
  }
}

TEST(TimeTest, CivilConversionRoundTrips) {
  for (std::int64_t d = -800000; d < 800000; d += 97) {
    EXPECT_EQ(DaysFromCivil(CivilFromDays(d)), d);
  }
}

}  // namespace
}  // namespace tickflow
