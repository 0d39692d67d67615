#include "tickflow/core/decimal.hpp"

#include <gtest/gtest.h>

#include "tickflow/test/values.hpp"

#include <algorithm>
#include <random>
#include <string>

namespace tickflow {
namespace {

using tickflow::test::D;

TEST(DecimalTest, RoundTripsTextExactly) {
  for (const char* s : {"0", "1", "10749.4", "10749.40", "0.004", "0.00000025", "0.0516",
                        "11041.8", "-3.25", "576460752303423487", "0.000000000000001",
                        "100", "100.000"}) {
    EXPECT_EQ(D(s).ToString(), s);
  }
}

TEST(DecimalTest, RandomTextRoundTrips) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const int scale = static_cast<int>(rng() % 16);
    const auto m = static_cast<std::int64_t>(rng() % 100000000000000ULL);
    Decimal d;
    ASSERT_TRUE(Decimal::FromParts(m, scale, &d));
    const std::string text = d.ToString();
    Decimal back;
    ASSERT_EQ(Decimal::Parse(text, &back), DecimalParseStatus::kOk) << text;
    EXPECT_TRUE(back.SameRepresentation(d)) << text;
  }
}

TEST(DecimalTest, KeepsScaleSoTrailingZerosSurvive) {
  EXPECT_EQ(D("0.05").scale(), 2);
  EXPECT_EQ(D("0.0500").scale(), 4);
  EXPECT_EQ(D("0.05"), D("0.0500"));
  EXPECT_FALSE(D("0.05").SameRepresentation(D("0.0500")));
}

TEST(DecimalTest, RejectsMalformedText) {
  Decimal d;
  EXPECT_EQ(Decimal::Parse("", &d), DecimalParseStatus::kEmpty);
  EXPECT_EQ(Decimal::Parse("abc", &d), DecimalParseStatus::kInvalidCharacter);
  EXPECT_EQ(Decimal::Parse("1.2.3", &d), DecimalParseStatus::kInvalidCharacter);
  EXPECT_EQ(Decimal::Parse("12a", &d), DecimalParseStatus::kInvalidCharacter);
  EXPECT_EQ(Decimal::Parse("-", &d), DecimalParseStatus::kInvalidCharacter);
  EXPECT_EQ(Decimal::Parse(" 1", &d), DecimalParseStatus::kInvalidCharacter);
  EXPECT_EQ(Decimal::Parse("+1", &d), DecimalParseStatus::kInvalidCharacter);
  EXPECT_EQ(Decimal::Parse("01", &d), DecimalParseStatus::kNonCanonical);
  EXPECT_EQ(Decimal::Parse(".5", &d), DecimalParseStatus::kNonCanonical);
  EXPECT_EQ(Decimal::Parse("5.", &d), DecimalParseStatus::kNonCanonical);
  EXPECT_EQ(Decimal::Parse("2.5e-7", &d), DecimalParseStatus::kNonCanonical);
  EXPECT_EQ(Decimal::Parse("-0", &d), DecimalParseStatus::kNonCanonical);
  EXPECT_EQ(Decimal::Parse("1.0123456789012345", &d), DecimalParseStatus::kTooManyDecimals);
  EXPECT_EQ(Decimal::Parse("576460752303423488", &d), DecimalParseStatus::kOutOfRange);
  EXPECT_EQ(Decimal::Parse("99999999999999999999999", &d), DecimalParseStatus::kOutOfRange);
}

TEST(DecimalTest, ComparesByValueAcrossScales) {
  EXPECT_LT(D("10749.4"), D("10749.41"));
  EXPECT_GT(D("10750"), D("10749.999999"));
  EXPECT_LT(D("-1"), D("0.000001"));
  EXPECT_EQ(D("2"), D("2.000000000000000"));
}

// The inline comparison across scales agrees with 128-bit arithmetic, and ==
// with it ("1.50" == "1.5").
TEST(DecimalTest, RandomComparisonsAcrossScalesMatchInt128Arithmetic) {
  std::mt19937_64 rng(3);
  __extension__ using Wide = __int128;
  for (int trial = 0; trial < 200000; ++trial) {
    Decimal a, b;
    const int sa = static_cast<int>(rng() % 16), sb = static_cast<int>(rng() % 16);
    const auto ma = static_cast<std::int64_t>(rng() >> 5) - (std::int64_t{1} << 58);
    // Half the pairs equal in value, to exercise equality across scales.
    std::int64_t mb = static_cast<std::int64_t>(rng() >> 5) - (std::int64_t{1} << 58);
    if (trial % 2 == 0 && sb >= sa && sb - sa <= 3 && ma < (std::int64_t{1} << 48) && ma > -(std::int64_t{1} << 48)) {
      mb = ma * Decimal::kPow10Table[sb - sa];
    }
    ASSERT_TRUE(Decimal::FromParts(ma, sa, &a));
    ASSERT_TRUE(Decimal::FromParts(mb, sb, &b));
    const int s = std::max(sa, sb);
    const Wide x = static_cast<Wide>(ma) * Decimal::kPow10Table[s - sa];
    const Wide y = static_cast<Wide>(mb) * Decimal::kPow10Table[s - sb];
    ASSERT_EQ(a < b, x < y) << a.ToString() << " vs " << b.ToString();
    ASSERT_EQ(a > b, x > y) << a.ToString() << " vs " << b.ToString();
    ASSERT_EQ(a == b, x == y) << a.ToString() << " vs " << b.ToString();
  }
}

TEST(DecimalTest, AddsExactlyAtTheLargerScale) {
  Decimal sum;
  ASSERT_TRUE(Decimal::Add(D("0.004"), D("0.0516"), &sum));
  EXPECT_EQ(sum.ToString(), "0.0556");
  ASSERT_TRUE(Decimal::Add(D("0.1"), D("0.2"), &sum));
  EXPECT_EQ(sum.ToString(), "0.3");
  EXPECT_FALSE(Decimal::Add(D("576460752303423487"), D("1"), &sum));
}

TEST(DecimalTest, ConvertsToDouble) {
  EXPECT_DOUBLE_EQ(D("10749.4").ToDouble(), 10749.4);
  EXPECT_DOUBLE_EQ(D("0.00000025").ToDouble(), 0.00000025);
}

}  // namespace
}  // namespace tickflow
