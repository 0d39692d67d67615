#include "tickflow/core/wide_decimal.hpp"

#include <gtest/gtest.h>

#include <random>

#include "tickflow/test/values.hpp"

namespace tickflow {
namespace {

using test::D;

WideDecimal Sum(std::initializer_list<const char*> parts) {
  WideDecimal s;
  for (const char* p : parts) EXPECT_TRUE(WideDecimal::Add(s, D(p), &s)) << p;
  return s;
}

TEST(WideDecimalTest, EveryDecimalConvertsWithItsBitsAndText) {
  for (const char* t : {"0", "1", "10749.40", "0.000000000000001", "576460752303423487", "-3.25"}) {
    const WideDecimal w = D(t);
    EXPECT_EQ(w.ToString(), t);
    EXPECT_EQ(w.low(), static_cast<std::uint64_t>(D(t).raw()));
    EXPECT_EQ(w.high(), D(t).raw() < 0 ? -1 : 0);
    Decimal back;
    ASSERT_TRUE(w.ToDecimal(&back));
    EXPECT_TRUE(back.SameRepresentation(D(t)));
  }
}

TEST(WideDecimalTest, SumsBeyondADecimalAreExact) {
  const WideDecimal s = Sum({"99999999", "0.000000000000001"});
  EXPECT_EQ(s.ToString(), "99999999.000000000000001");
  Decimal narrow;
  EXPECT_FALSE(s.ToDecimal(&narrow));
  EXPECT_EQ(WideDecimal::FromHalves(s.low(), s.high()).ToString(), s.ToString());
  EXPECT_EQ(Sum({"576460752303423487", "576460752303423487"}).ToString(), "1152921504606846974");
  EXPECT_EQ(Sum({"1.50", "2"}).ToString(), "3.50");  // the larger scale, as Decimal
  WideDecimal max, out;
  ASSERT_TRUE(WideDecimal::FromParts(WideDecimal::kMaxMantissa, 0, &max));
  EXPECT_FALSE(WideDecimal::Add(max, D("1"), &out));
  EXPECT_FALSE(WideDecimal::Add(max, D("0.5"), &out));  // rescaling overflows
  EXPECT_EQ(max.ToString(), "10633823966279326983230456482242756607");
}

TEST(WideDecimalTest, ComparesByValueAcrossScales) {
  EXPECT_EQ(WideDecimal(D("1.50")), WideDecimal(D("1.5")));
  EXPECT_LT(WideDecimal(D("1.49")), WideDecimal(D("1.5")));
  WideDecimal max;
  ASSERT_TRUE(WideDecimal::FromParts(WideDecimal::kMaxMantissa, 0, &max));
  EXPECT_GT(max, WideDecimal(D("0.000000000000001")));  // max cannot be rescaled to 15 digits
  EXPECT_LT(WideDecimal(D("-1")), max);
}

// Random sums agree with exact arithmetic on the mantissas.
TEST(WideDecimalTest, RandomSumsMatchInt128Arithmetic) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    WideDecimal s;
    Int128 expected = 0;  // at scale 8
    for (int i = 0; i < 1000; ++i) {
      Decimal v;
      const auto m = static_cast<std::int64_t>(rng() >> 6);  // < 2^58
      ASSERT_TRUE(Decimal::FromParts(m, 8, &v));
      ASSERT_TRUE(WideDecimal::Add(s, v, &s));
      expected += m;
    }
    EXPECT_EQ(s.mantissa(), expected);
    EXPECT_EQ(s.scale(), 8);
  }
}

// Adding a Decimal of a smaller scale (inline) gives what the general sum gives.
TEST(WideDecimalTest, AddingADecimalOfASmallerScaleMatchesTheGeneralSum) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 100000; ++trial) {
    WideDecimal a;
    ASSERT_TRUE(WideDecimal::FromParts(static_cast<Int128>(rng()) * static_cast<Int128>(rng() >> 20),
                                       static_cast<int>(rng() % 16), &a));
    Decimal b;
    ASSERT_TRUE(Decimal::FromParts(static_cast<std::int64_t>(rng() >> 5) - (std::int64_t{1} << 58),
                                   static_cast<int>(rng() % 16), &b));
    WideDecimal fast, general;
    const bool ok_fast = WideDecimal::Add(a, b, &fast);
    const bool ok_general = WideDecimal::Add(a, WideDecimal(b), &general);
    ASSERT_EQ(ok_fast, ok_general);
    if (ok_fast) {
      ASSERT_TRUE(fast.SameRepresentation(general)) << a.ToString() << " + " << b.ToString();
    }
  }
}

}  // namespace
}  // namespace tickflow
