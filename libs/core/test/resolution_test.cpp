#include "tickflow/core/resolution.hpp"

#include <gtest/gtest.h>

namespace tickflow {
namespace {

UnixNanos T(const char* iso) { return ParseTime(iso).value(); }

TEST(ResolutionTest, KeepsReferenceWireValues) {
  EXPECT_EQ(static_cast<int>(TimeResolution::kOneMinute), 1);
  EXPECT_EQ(static_cast<int>(TimeResolution::kOneHour), 5);
  EXPECT_EQ(static_cast<int>(TimeResolution::kOneYear), 9);
  EXPECT_EQ(AllResolutions().size(), 9u);
}

TEST(ResolutionTest, ParsesAndPrints) {
  for (TimeResolution r : AllResolutions()) EXPECT_EQ(ParseResolution(ToString(r)).value(), r);
  EXPECT_FALSE(ParseResolution("2m").ok());
  EXPECT_NE(ParseResolution("2m").error().message.find("1M (month)"), std::string::npos);
}

TEST(ResolutionTest, BucketsAlignToTheCalendar) {
  const UnixNanos t = T("2019-07-03T13:47:29.5Z");  // a Wednesday
  EXPECT_EQ(BucketStart(t, TimeResolution::kOneMinute), T("2019-07-03T13:47Z"));
  EXPECT_EQ(BucketStart(t, TimeResolution::kFiveMinutes), T("2019-07-03T13:45Z"));
  EXPECT_EQ(BucketStart(t, TimeResolution::kFifteenMinutes), T("2019-07-03T13:45Z"));
  EXPECT_EQ(BucketStart(t, TimeResolution::kThirtyMinutes), T("2019-07-03T13:30Z"));
  EXPECT_EQ(BucketStart(t, TimeResolution::kOneHour), T("2019-07-03T13:00Z"));
  EXPECT_EQ(BucketStart(t, TimeResolution::kOneDay), T("2019-07-03"));
  EXPECT_EQ(BucketStart(t, TimeResolution::kOneWeek), T("2019-07-01"));  // Monday
  EXPECT_EQ(BucketStart(t, TimeResolution::kOneMonth), T("2019-07-01"));
  EXPECT_EQ(BucketStart(t, TimeResolution::kOneYear), T("2019-01-01"));
}

TEST(ResolutionTest, WeeksStartMondayAndMonthsFollowTheCalendar) {
  EXPECT_EQ(BucketStart(T("2019-07-07T23:59:59Z"), TimeResolution::kOneWeek), T("2019-07-01"));
  EXPECT_EQ(BucketStart(T("2019-07-08"), TimeResolution::kOneWeek), T("2019-07-08"));
  EXPECT_EQ(BucketStart(T("1970-01-01"), TimeResolution::kOneWeek), T("1969-12-29"));
  EXPECT_EQ(NextBucketStart(T("2020-02-10"), TimeResolution::kOneMonth), T("2020-03-01"));
  EXPECT_EQ(NextBucketStart(T("2019-12-31T23:59Z"), TimeResolution::kOneMonth), T("2020-01-01"));
  EXPECT_EQ(NextBucketStart(T("2019-12-31"), TimeResolution::kOneYear), T("2020-01-01"));
  EXPECT_EQ(NextBucketStart(T("2019-07-03T13:47Z"), TimeResolution::kOneHour), T("2019-07-03T14:00Z"));
}

TEST(ResolutionTest, EveryTimeLiesInItsBucket) {
  for (std::int64_t ns = -5 * kNanosPerDay; ns < 400 * kNanosPerDay; ns += 7919 * kNanosPerSecond + 13) {
    for (TimeResolution r : AllResolutions()) {
      const UnixNanos t{ns};
      EXPECT_LE(BucketStart(t, r), t);
      EXPECT_GT(NextBucketStart(t, r), t);
      EXPECT_EQ(BucketStart(NextBucketStart(t, r), r), NextBucketStart(t, r));
    }
  }
}

}  // namespace
}  // namespace tickflow
