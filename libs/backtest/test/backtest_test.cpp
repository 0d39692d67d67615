#include "tickflow/backtest/backtest.hpp"

#include <gtest/gtest.h>

#include "tickflow/test/values.hpp"

#include <cmath>
#include <functional>

#include "tickflow/backtest/strategies.hpp"

namespace tickflow::backtest {
namespace {

using tickflow::test::D;
constexpr std::int64_t kDay = kNanosPerDay;
const std::int64_t kT0 = 1672531200LL * kNanosPerSecond;  // 2023-01-01

Trade T(std::int64_t offset_ns, const char* price, const char* volume, SymbolId s = 1) {
  return Trade{UnixNanos{kT0 + offset_ns}, D(price), D(volume), s};
}

// Calls `act` with the index of every trade.
class Scripted final : public Strategy {
 public:
  explicit Scripted(std::function<void(Account&, std::size_t, const Trade&)> act) : act_(std::move(act)) {}
  std::string name() const override { return "scripted"; }
  void OnTrade(Account& a, const Trade& t) override { act_(a, n_++, t); }

 private:
  std::function<void(Account&, std::size_t, const Trade&)> act_;
  std::size_t n_ = 0;
};

Results Backtest(Strategy& s, const std::vector<Trade>& trades, double cash = 100000) {
  Backtester bt(s, {.initial_cash = cash});
  for (const Trade& t : trades) EXPECT_TRUE(bt.OnTrade(t).ok());
  return bt.Finish();
}

TEST(FeeScheduleTest, KrakenTiersFromTheDataFile) {
  const FeeSchedule& k = FeeSchedule::Kraken();
  ASSERT_EQ(k.tiers().size(), 10u);
  EXPECT_DOUBLE_EQ(k.TierFor(0).maker, 0.0025);
  EXPECT_DOUBLE_EQ(k.TierFor(0).taker, 0.0040);
  EXPECT_DOUBLE_EQ(k.TierFor(9999.99).taker, 0.0040);
  EXPECT_DOUBLE_EQ(k.TierFor(10000).taker, 0.0035);
  EXPECT_DOUBLE_EQ(k.TierFor(75000).maker, 0.0014);
  EXPECT_DOUBLE_EQ(k.TierFor(2e7).maker, 0.0);
  EXPECT_DOUBLE_EQ(k.TierFor(2e7).taker, 0.0010);
}

TEST(FeeScheduleTest, ParseErrorsNameTheLine) {
  auto bad = FeeSchedule::Parse("0,0.25,0.40\nten,0.2,0.3\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos);
  EXPECT_FALSE(FeeSchedule::Parse("100,0.2,0.3\n").ok()) << "must start at 0";
  EXPECT_FALSE(FeeSchedule::Parse("0,0.2,0.3\n0,0.1,0.2\n").ok()) << "must ascend";
}

TEST(VirtualExchangeTest, MarketOrderFillsAtTheNextTradeWithTakerFee) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i == 0) a.Buy(1, 1);
  });
  const Results r = Backtest(s, {T(0, "100", "5"), T(1, "101", "5")});
  ASSERT_EQ(r.fills.size(), 1u);
  EXPECT_EQ(r.fills[0].price.ToString(), "101") << "not the trade that triggered the order";
  EXPECT_FALSE(r.fills[0].maker);
  EXPECT_NEAR(r.fills[0].fee, 101 * 0.004, 1e-9);
  EXPECT_NEAR(r.metrics.final_equity, 100000 - 101 - 0.404 + 101, 1e-6);
  EXPECT_NEAR(r.metrics.fees_paid, 0.404, 1e-9);
}

TEST(VirtualExchangeTest, FillsAreBoundedByTradedVolume) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i == 0) a.Buy(1, 3);
  });
  const Results r = Backtest(s, {T(0, "100", "5"), T(1, "101", "1"), T(2, "102", "0.5"), T(3, "103", "9")});
  ASSERT_EQ(r.fills.size(), 3u);
  EXPECT_DOUBLE_EQ(r.fills[0].quantity, 1);
  EXPECT_DOUBLE_EQ(r.fills[1].quantity, 0.5);
  EXPECT_DOUBLE_EQ(r.fills[2].quantity, 1.5);
  EXPECT_EQ(r.fills[2].price.ToString(), "103");
}

TEST(VirtualExchangeTest, LimitOrdersRestUntilTheMarketReachesThemAndPayMaker) {
  OrderId id = 0;
  Scripted s([&](Account& a, std::size_t i, const Trade&) {
    if (i == 0) id = a.Buy(1, 2, D("99"));
    if (i == 1) { EXPECT_EQ(a.open_orders(1), 1u); }
  });
  const Results r = Backtest(s, {T(0, "100", "5"), T(1, "99.5", "5"), T(2, "98.5", "1"), T(3, "99", "5"), T(4, "100", "5")});
  ASSERT_EQ(r.fills.size(), 2u);
  EXPECT_EQ(r.fills[0].price.ToString(), "99") << "filled at the limit, not the better trade price";
  EXPECT_DOUBLE_EQ(r.fills[0].quantity, 1);
  EXPECT_TRUE(r.fills[0].maker);
  EXPECT_NEAR(r.fills[0].fee, 99 * 0.0025, 1e-9);
  EXPECT_EQ(r.fills[1].time.ns, kT0 + 3) << "a trade at the limit fills too";
  // A sell limit above the market.
  Scripted sell([](Account& a, std::size_t i, const Trade&) {
    if (i == 0) a.Sell(1, 1, D("105"));
  });
  const Results rs = Backtest(sell, {T(0, "100", "5"), T(1, "104.9", "5"), T(2, "105.1", "5")});
  ASSERT_EQ(rs.fills.size(), 1u);
  EXPECT_EQ(rs.fills[0].price.ToString(), "105");
}

TEST(VirtualExchangeTest, CancelledOrdersNeverFill) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    static OrderId id;
    if (i == 0) id = a.Buy(1, 1, D("90"));
    if (i == 1) { EXPECT_TRUE(a.Cancel(id)); }
    if (i == 2) { EXPECT_FALSE(a.Cancel(id)); }
  });
  EXPECT_TRUE(Backtest(s, {T(0, "100", "5"), T(1, "95", "5"), T(2, "80", "5")}).fills.empty());
}

TEST(PortfolioTest, RealisedAndUnrealisedPnlWithFees) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i == 0) a.Buy(1, 2);
    if (i == 1) {
      EXPECT_DOUBLE_EQ(a.position(1).quantity, 2);
      EXPECT_DOUBLE_EQ(a.position(1).average_price, 100);
      EXPECT_NEAR(a.equity(), 100000 - 0.8, 1e-9) << "marked at the last trade: 100";
    }
    if (i == 2) {
      EXPECT_NEAR(a.equity(), 100000 - 0.8 + 2 * 5, 1e-9) << "unrealised gain at 105";
      a.Sell(1, 2);
    }
  });
  const Results r = Backtest(s, {T(0, "90", "5"), T(kDay, "100", "5"), T(2 * kDay, "105", "5"), T(3 * kDay, "110", "5")});
  ASSERT_EQ(r.fills.size(), 2u);
  EXPECT_NEAR(r.fills[1].realized_pnl, 20, 1e-9);
  ASSERT_EQ(r.round_trips.size(), 1u);
  EXPECT_NEAR(r.round_trips[0].pnl, 20 - 0.8 - 0.88, 1e-9);
  EXPECT_NEAR(r.metrics.final_equity, 100000 + 20 - 0.8 - 0.88, 1e-9);
  EXPECT_DOUBLE_EQ(r.metrics.win_rate, 1.0);
  EXPECT_GT(r.metrics.exposure, 0.3);
  EXPECT_LT(r.metrics.exposure, 0.7);
}

TEST(PortfolioTest, FeeTierFollowsThirtyDayVolume) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i <= 2) a.Buy(1, 100);  // 100 x 100 = 10,000 notional per fill
  });
  const Results r = Backtest(s, {T(0, "100", "1000"), T(kDay, "100", "1000"), T(2 * kDay, "100", "1000"),
                            T(40 * kDay, "100", "1000")});
  ASSERT_EQ(r.fills.size(), 3u);
  EXPECT_NEAR(r.fills[0].fee, 10000 * 0.0040, 1e-6) << "0 volume: 0.40 %";
  EXPECT_NEAR(r.fills[1].fee, 10000 * 0.0035, 1e-6) << "10,000 in 30 days: 0.35 %";
  EXPECT_NEAR(r.fills[2].fee, 10000 * 0.0040, 1e-6) << "39 days later the old volume has left the window";
}

TEST(MetricsTest, HandComputedCurve) {
  const std::vector<EquityPoint> eq = {{UnixNanos{0}, 100}, {UnixNanos{kDay}, 110}, {UnixNanos{2 * kDay}, 99},
                                       {UnixNanos{3 * kDay}, 121}};
  const Metrics m = ComputeMetrics(eq, {}, {}, 0.5, 4);
  EXPECT_NEAR(m.total_return, 0.21, 1e-12);
  EXPECT_NEAR(m.max_drawdown, 0.1, 1e-12);
  EXPECT_NEAR(m.cagr, std::pow(1.21, 365.25 / 3) - 1, 1e-9);
  // Returns 0.1, -0.1, 0.2222: mean 0.074074, sample sd 0.162669, 365.25 periods a year.
  EXPECT_NEAR(m.sharpe, 0.0740741 / 0.1626689 * std::sqrt(365.25), 1e-3);
  EXPECT_NEAR(m.sortino, 0.0740740 / std::sqrt(0.01 / 3) * std::sqrt(365.25), 1e-3);
  EXPECT_NE(m.ToJson().find("\"total_return\": 0.210000"), std::string::npos);
}

std::vector<Trade> Walk(std::size_t n) {
  std::vector<Trade> trades;
  std::int64_t p = 100000;
  std::uint64_t x = 12345;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    p = std::max<std::int64_t>(1000, p + static_cast<std::int64_t>(x >> 33) % 401 - 195);
    Trade t;
    t.time = UnixNanos{kT0 + static_cast<std::int64_t>(i) * 600 * kNanosPerSecond};
    (void)Decimal::FromParts(p, 2, &t.price);
    (void)Decimal::FromParts(static_cast<std::int64_t>(x >> 40) % 1000 + 1, 2, &t.volume);
    t.symbol = 1;
    trades.push_back(t);
  }
  return trades;
}

TEST(BacktestTest, SameInputsGiveIdenticalResults) {
  const auto trades = Walk(60000);  // ~14 months
  for (int k = 0; k < 2; ++k) {
    BreakoutStrategy a, b;
    const Results ra = Backtest(a, trades), rb = Backtest(b, trades);
    EXPECT_EQ(ra.metrics.ToJson(), rb.metrics.ToJson());
    EXPECT_EQ(ra.fills.size(), rb.fills.size());
  }
  SmaCrossStrategy c, d;
  EXPECT_EQ(Backtest(c, trades).metrics.ToJson(), Backtest(d, trades).metrics.ToJson());
}

TEST(BacktestTest, NoLookAheadDecisionsMatchOnPrefixes) {
  const auto trades = Walk(60000);
  BreakoutStrategy full;
  const Results rf = Backtest(full, trades);
  ASSERT_GT(rf.fills.size(), 2u) << "the walk must trade";
  const std::vector<Trade> prefix(trades.begin(), trades.begin() + 30000);
  BreakoutStrategy part;
  const Results rp = Backtest(part, prefix);
  std::size_t n = 0;
  while (n < rp.fills.size() && rp.fills[n].time < prefix.back().time) ++n;
  ASSERT_GT(n, 0u);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(rp.fills[i].time, rf.fills[i].time) << i;
    EXPECT_DOUBLE_EQ(rp.fills[i].quantity, rf.fills[i].quantity) << i;
  }
}

TEST(BacktestTest, TradesOutOfOrderAreAnError) {
  BreakoutStrategy s;
  Backtester bt(s, {});
  ASSERT_TRUE(bt.OnTrade(T(10, "1", "1")).ok());
  EXPECT_FALSE(bt.OnTrade(T(5, "1", "1")).ok());
}

TEST(ReportTest, IsSelfContainedAndHoldsTheResults) {
  const auto trades = Walk(60000);
  SmaCrossStrategy s;
  const Results r = Backtest(s, trades);
  const std::string html = HtmlReport(r, "SMA <test>", {{1, "XBTUSD"}});
  EXPECT_NE(html.find("<canvas id=\"equity\""), std::string::npos);
  EXPECT_NE(html.find("SMA &lt;test&gt;"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos) << "no network references";
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  std::size_t rows = 0;
  for (std::size_t p = 0; (p = html.find("<tr><td>", p)) != std::string::npos; ++p) ++rows;
  EXPECT_EQ(rows, 13 + r.round_trips.size());
}

}  // namespace
}  // namespace tickflow::backtest
