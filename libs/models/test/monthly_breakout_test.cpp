#include "tickflow/models/monthly_breakout.hpp"

#include <gtest/gtest.h>

#include "tickflow/test/values.hpp"

#include <random>

namespace tickflow::models {
namespace {

UnixNanos T(const char* iso) { return ParseTime(iso).value(); }
using tickflow::test::D;
bool On(MonthlyBreakoutModel& m, const char* iso, const char* price) { return m.OnTrade(T(iso), D(price)).value(); }

// January: open 100, high 120, low 95, close 110 (an up month).
void UpJanuary(MonthlyBreakoutModel& m) {
  EXPECT_FALSE(On(m, "2023-01-02", "100"));
  EXPECT_FALSE(On(m, "2023-01-10", "120"));
  EXPECT_FALSE(On(m, "2023-01-20", "95"));
  EXPECT_FALSE(On(m, "2023-01-31T23:59:59Z", "110"));
}

TEST(MonthlyBreakoutTest, FiresOnlyWhenAllFourChecksHold) {
  MonthlyBreakoutModel m;
  UpJanuary(m);
  EXPECT_FALSE(On(m, "2023-02-01", "105")) << "first trade of the month: price equals the open";
  EXPECT_FALSE(On(m, "2023-02-02", "109")) << "below the previous close (110)";
  EXPECT_FALSE(On(m, "2023-02-03", "115")) << "above close and open, below the previous high (120)";
  EXPECT_FALSE(On(m, "2023-02-04", "120")) << "equal to the previous high is not above it";
  EXPECT_TRUE(On(m, "2023-02-05", "120.5"));
  const Detection d = m.last();
  EXPECT_EQ(d.price.ToString(), "120.5");
  EXPECT_EQ(d.current_month, T("2023-02-01"));
  EXPECT_EQ(d.previous_month, T("2023-01-01"));
  EXPECT_EQ(d.previous.open.ToString(), "100");
  EXPECT_EQ(d.previous.high.ToString(), "120");
  EXPECT_EQ(d.previous.low.ToString(), "95");
  EXPECT_EQ(d.previous.close.ToString(), "110") << "the close is the last trade, not the open";
  EXPECT_EQ(d.current.open.ToString(), "105");
  EXPECT_EQ(d.current.high.ToString(), "120.5");
  EXPECT_FALSE(On(m, "2023-02-06", "104")) << "below the current open";
}

TEST(MonthlyBreakoutTest, NeverFiresAfterADownMonth) {
  MonthlyBreakoutModel m;
  EXPECT_FALSE(On(m, "2023-01-02", "110"));
  EXPECT_FALSE(On(m, "2023-01-15", "130"));
  EXPECT_FALSE(On(m, "2023-01-31", "100"));  // closed below its open
  EXPECT_FALSE(On(m, "2023-02-01", "101"));
  EXPECT_FALSE(On(m, "2023-02-10", "500"));
}

TEST(MonthlyBreakoutTest, TheFirstMonthHasNoPreviousMonth) {
  MonthlyBreakoutModel m;
  for (int d = 1; d <= 28; ++d) {
    const std::string iso = "2023-03-" + std::string(d < 10 ? "0" : "") + std::to_string(d);
    EXPECT_FALSE(m.OnTrade(T(iso.c_str()), D(std::to_string(100 + d * 10))).value());
  }
  EXPECT_FALSE(m.context().Previous(causal::TimeScale::kMonth).has_value());
}

TEST(MonthlyBreakoutTest, RolloverMakesTheFinishedMonthThePreviousOne) {
  MonthlyBreakoutModel m;
  UpJanuary(m);
  EXPECT_FALSE(On(m, "2023-02-01", "105"));
  const auto cur = m.context().Current(causal::TimeScale::kMonth);
  const auto prev = m.context().Previous(causal::TimeScale::kMonth);
  ASSERT_TRUE(cur && prev);
  EXPECT_NE(*cur, *prev) << "current and previous month are different nodes";
  EXPECT_EQ(m.months_seen(), 2u);
  // March rolls again: February becomes the previous month.
  EXPECT_TRUE(On(m, "2023-02-20", "130")) << "130 > Jan close 110, Feb open 105, Jan high 120";
  EXPECT_FALSE(On(m, "2023-03-01", "131"));
  EXPECT_EQ(m.last().previous.open.ToString(), "105");
  EXPECT_EQ(m.last().previous.close.ToString(), "130");
  EXPECT_TRUE(On(m, "2023-03-02", "131.5")) << "February closed up (105 -> 130), 131.5 > high 130";
}

TEST(MonthlyBreakoutTest, AMonthWithoutTradesLeavesTheNextWithoutAPreviousMonth) {
  MonthlyBreakoutModel m;
  UpJanuary(m);
  EXPECT_FALSE(On(m, "2023-03-01", "105"));  // no February trades
  EXPECT_FALSE(On(m, "2023-03-10", "500"));
  EXPECT_FALSE(m.context().Previous(causal::TimeScale::kMonth).has_value());
}

TEST(MonthlyBreakoutTest, KeepsYearRangesAndExplainsItself) {
  MonthlyBreakoutModel m;
  UpJanuary(m);
  EXPECT_FALSE(On(m, "2023-02-01", "105"));
  EXPECT_FALSE(On(m, "2023-02-02", "115"));
  causal::Explanation why;
  EXPECT_FALSE(m.Explain(&why).value());
  ASSERT_EQ(why.steps.size(), 5u);
  EXPECT_TRUE(why.steps[0].holds);
  EXPECT_TRUE(why.steps[1].holds);
  EXPECT_TRUE(why.steps[2].holds);
  EXPECT_FALSE(why.steps[3].holds);
  EXPECT_EQ(why.steps[3].description, "price above the previous month's high");
  const auto year = m.context().Current(causal::TimeScale::kYear);
  ASSERT_TRUE(year.has_value());
  const auto* range = m.context().Get<causal::RangeData>(*year).value();
  EXPECT_EQ(range->open.ToString(), "100");
  EXPECT_EQ(range->high.ToString(), "120");
  EXPECT_EQ(range->close.ToString(), "115");
  EXPECT_FALSE(m.OnTrade(T("2023-01-01"), D("1")).ok()) << "time must not go back";
}

// The decision at each trade is the same whether or not later trades exist.
TEST(MonthlyBreakoutTest, NoLookAhead) {
  std::mt19937_64 rng(5);
  std::vector<std::pair<UnixNanos, Decimal>> trades;
  std::int64_t t = T("2020-01-01").ns, p = 100000;
  for (int i = 0; i < 20000; ++i) {
    t += static_cast<std::int64_t>(rng() % (6 * kNanosPerHour));
    p = std::max<std::int64_t>(100, p + static_cast<std::int64_t>(rng() % 2001) - 990);
    Decimal d;
    ASSERT_TRUE(Decimal::FromParts(p, 2, &d));
    trades.emplace_back(UnixNanos{t}, d);
  }
  std::vector<bool> full;
  {
    MonthlyBreakoutModel m;
    for (const auto& [time, price] : trades) full.push_back(m.OnTrade(time, price).value());
  }
  EXPECT_GT(std::count(full.begin(), full.end(), true), 10) << "the data must contain breakouts";
  for (std::size_t cut : {1u, 777u, 5000u, 12345u}) {
    MonthlyBreakoutModel m;
    for (std::size_t i = 0; i < cut; ++i) ASSERT_EQ(m.OnTrade(trades[i].first, trades[i].second).value(), full[i]) << i;
  }
}

}  // namespace
}  // namespace tickflow::models
