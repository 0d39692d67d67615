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

// Times past 2262-04-11 (or before 1677-09-21) do not fit int64 nanoseconds:
// they are refused by name instead of wrapping to another date.
TEST(TimeTest, TimesOutsideTheRepresentableRangeAreRefusedNotWrapped) {
  for (const char* text : {"3000-01-01", "9999-12-31", "1000-01-01", "1500-01-01T00:00:00Z", "2262-04-12"}) {
    auto t = ParseTime(text);
    ASSERT_FALSE(t.ok()) << text << " parsed as " << FormatIso8601(*t);
    EXPECT_EQ(t.error().code, ErrorCode::kOutOfRange) << text;
    EXPECT_NE(t.error().message.find("2262-04-11"), std::string::npos) << t.error().message;
  }
  EXPECT_EQ(FormatIso8601(ParseTime("2262-04-11").value()), "2262-04-11T00:00:00Z");
  EXPECT_EQ(FormatIso8601(ParseTime("1677-09-22").value()), "1677-09-22T00:00:00Z");
}

TEST(UnixNanosTest, MovesByChronoDurations) {
  const UnixNanos t = ParseTime("2024-02-28T12:00:00Z").value();
  EXPECT_EQ(FormatIso8601(t + std::chrono::days(2)), "2024-03-01T12:00:00Z") << "2024 is a leap year";
  EXPECT_EQ(FormatIso8601(t - std::chrono::hours(13)), "2024-02-27T23:00:00Z");
  EXPECT_EQ((t + std::chrono::nanoseconds(1)).ns, t.ns + 1);
  EXPECT_EQ((t + std::chrono::milliseconds(1500)) - t, std::chrono::nanoseconds(1'500'000'000));
  UnixNanos u = t;
  u += std::chrono::minutes(90);
  u -= std::chrono::seconds(1);
  EXPECT_EQ(FormatIso8601(u), "2024-02-28T13:29:59Z");
  static_assert((UnixNanos{10} + std::chrono::nanoseconds(5)).ns == 15, "constexpr");
}

}  // namespace
}  // namespace tickflow
