#include "tickflow/backtest/backtest.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "tickflow/backtest/outputs.hpp"
#include "tickflow/backtest/strategies.hpp"
#include "tickflow/backtest/threaded.hpp"
#include "tickflow/test/values.hpp"

#include <atomic>
#include <thread>

namespace tickflow::backtest {
namespace {

using tickflow::test::D;
constexpr std::int64_t kDay = kNanosPerDay;
constexpr std::int64_t kMs = 1000000;
const std::int64_t kT0 = 1672531200LL * kNanosPerSecond;  // 2023-01-01: the 2015 schedule, 0.16 % / 0.26 %

Amount A(std::string_view text) {
  auto a = Amount::Parse(text);
  EXPECT_TRUE(a.ok()) << text;
  return a.ok() ? *a : Amount();
}

Trade T(std::int64_t offset_ns, const char* price, const char* volume, SymbolId s = 1) {
  return Trade{UnixNanos{kT0 + offset_ns}, D(price), D(volume), s};
}

Instrument Pair(const char* symbol, const char* base, const char* quote, const char* tick = "0.1",
                const char* min = "0.0001") {
  Instrument in;
  in.symbol = symbol;
  in.base = base;
  in.quote = quote;
  in.tick_size = D(tick);
  in.lot_size = D("0.00000001");
  in.min_order = D(min);
  return in;
}

BacktestOptions Options(std::vector<ExecutionModel> models = {{"optimistic", FillRule::kTouch, {}}}) {
  BacktestOptions o;
  o.models = std::move(models);
  o.instruments[1] = Pair("XBTUSD", "XBT", "USD");
  return o;
}
ExecutionModel Conservative() { return {"conservative", FillRule::kConservative, {}}; }

// Calls `act` with the index of every trade; records every order event.
class Scripted final : public Strategy {
 public:
  explicit Scripted(std::function<void(Account&, std::size_t, const Trade&)> act) : act_(std::move(act)) {}
  std::string name() const override { return "scripted"; }
  void OnTrade(Account& a, const Trade& t) override { act_(a, n_++, t); }
  void OnOrder(Account&, const OrderEvent& e) override { events.push_back(e); }
  std::vector<OrderEvent> events;
  std::vector<OrderEvent> Of(OrderEvent::Kind k) const {
    std::vector<OrderEvent> out;
    for (const auto& e : events) {
      if (e.kind == k) out.push_back(e);
    }
    return out;
  }

 private:
  std::function<void(Account&, std::size_t, const Trade&)> act_;
  std::size_t n_ = 0;
};

Results Backtest(Strategy& s, const std::vector<Trade>& trades, BacktestOptions options = Options()) {
  Backtester bt(s, std::move(options));
  for (const Trade& t : trades) EXPECT_TRUE(bt.OnTrade(t).ok());
  auto r = bt.Finish();
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? std::move(*r) : Results{};
}

OrderRequest Req(OrderType type, Side side, const char* qty, const char* limit = nullptr, const char* stop = nullptr) {
  OrderRequest r;
  r.symbol = 1;
  r.type = type;
  r.side = side;
  r.quantity = D(qty);
  if (limit) r.limit = D(limit);
  if (stop) r.stop = D(stop);
  return r;
}

// Amount -------------------------------------------------------------------------------

TEST(AmountTest, ParsesFormatsAndMultipliesExactly) {
  EXPECT_EQ(A("100000").ToString(), "100000");
  EXPECT_EQ(A("-0.25").ToString(), "-0.25");
  EXPECT_EQ(A("0.000000000000000001").ToString(), "0.000000000000000001");
  EXPECT_EQ(A("2.5").ToFixed(0), "2") << "half-even";
  EXPECT_EQ(A("3.5").ToFixed(0), "4");
  EXPECT_EQ(A("-0.004").ToFixed(2), "0.00");
  EXPECT_FALSE(Amount::Parse("1e5").ok());
  EXPECT_FALSE(Amount::Parse("01").ok());
  EXPECT_FALSE(Amount::Parse("1.").ok());
  EXPECT_FALSE(Amount::Parse("200000000000000000000000").ok());
  // 0.00000001 BTC at 10,000,000.1234567890: 18 digits after the point, exact.
  Amount out;
  bool inexact = true;
  ASSERT_TRUE(Amount::Mul(A("0.00000001"), D("10000000.123456789"), &out, &inexact));
  EXPECT_EQ(out.ToString(), "0.10000000123456789");
  EXPECT_FALSE(inexact);
  // 9.902745 x 9557.46: the trip, exact.
  ASSERT_TRUE(Amount::Mul(A("9.902745"), D("9557.46"), &out, &inexact));
  EXPECT_EQ(out.ToString(), "94645.0892277");
  // Beyond 18 digits: rounded half-even and reported.
  ASSERT_TRUE(Amount::Mul(A("0.000000000000000005"), D("0.5"), &out, &inexact));
  EXPECT_TRUE(inexact);
  EXPECT_EQ(out.ToString(), "0.000000000000000002");
  // Large values multiply without a 256-bit product.
  ASSERT_TRUE(Amount::Mul(A("12345678901234567890"), A("1.5"), &out));
  EXPECT_EQ(out.ToString(), "18518518351851851835");
  EXPECT_FALSE(Amount::Mul(A("10000000000000000000"), A("10000000000000000000"), &out)) << "overflow is reported";
  EXPECT_FALSE(Amount::Add(Amount::FromUnits(static_cast<Int128>(~UInt128(0) >> 1)), A("1"), &out));
}

TEST(AmountTest, DividesWithTheRequestedRounding) {
  Amount q;
  ASSERT_TRUE(Amount::Div(A("1"), A("3"), 4, Rounding::kHalfEven, &q));
  EXPECT_EQ(q.ToString(), "0.3333");
  ASSERT_TRUE(Amount::Div(A("2"), A("3"), 4, Rounding::kFloor, &q));
  EXPECT_EQ(q.ToString(), "0.6666");
  ASSERT_TRUE(Amount::Div(A("2"), A("3"), 4, Rounding::kCeiling, &q));
  EXPECT_EQ(q.ToString(), "0.6667");
  ASSERT_TRUE(Amount::Div(A("-2"), A("3"), 4, Rounding::kFloor, &q));
  EXPECT_EQ(q.ToString(), "-0.6667");
  ASSERT_TRUE(Amount::Div(A("94645.0892277"), A("9.902745"), 12, Rounding::kHalfEven, &q));
  EXPECT_EQ(q.ToString(), "9557.46");
  EXPECT_FALSE(Amount::Div(A("1"), Amount(), 4, Rounding::kFloor, &q));
  EXPECT_EQ(A("0.00015").Round(4, Rounding::kHalfUp).ToString(), "0.0002");
  EXPECT_EQ(A("0.00025").Round(4, Rounding::kHalfEven).ToString(), "0.0002");
}

// Rules ---------------------------------------------------------------------------------

TEST(FeeScheduleTest, KrakenSchedulesAreDated) {
  const FeeSchedule& k = FeeSchedule::Kraken();
  ASSERT_EQ(k.periods().size(), 3u);
  const UnixNanos y2014{1388534400LL * kNanosPerSecond}, y2023{kT0}, y2025{1735776000LL * kNanosPerSecond};
  EXPECT_EQ(k.TierFor(y2014, Amount()).maker.ToString(), "0.0026") << "one fee for both sides before 2015-08";
  EXPECT_EQ(k.TierFor(y2023, Amount()).maker.ToString(), "0.0016");
  EXPECT_EQ(k.TierFor(y2023, Amount()).taker.ToString(), "0.0026");
  EXPECT_EQ(k.TierFor(y2023, A("49999.99")).taker.ToString(), "0.0026");
  EXPECT_EQ(k.TierFor(y2023, A("50000")).taker.ToString(), "0.0024");
  EXPECT_EQ(k.TierFor(y2025, Amount()).taker.ToString(), "0.0040");
  EXPECT_EQ(k.TierFor(y2025, A("10000")).maker.ToString(), "0.0020");
  EXPECT_EQ(k.TierFor(y2025, A("20000000")).maker.ToString(), "0.0000");
}

TEST(FeeScheduleTest, ParseErrorsNameTheSourceAndLine) {
  auto bad = FeeSchedule::Parse("2020-01-01,0,0.25,0.40\n2020-01-01,ten,0.2,0.3\n", "fees.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("fees.csv:2"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("'ten'"), std::string::npos);
  EXPECT_FALSE(FeeSchedule::Parse("2020-01-01,100,0.2,0.3\n").ok()) << "must start at 0";
  EXPECT_FALSE(FeeSchedule::Parse("2020-01-01,0,0.2,0.3\n2020-01-01,0,0.1,0.2\n").ok()) << "must ascend";
  EXPECT_FALSE(FeeSchedule::Parse("2021-01-01,0,0.2,0.3\n2020-01-01,0,0.1,0.2\n").ok()) << "dates must ascend";
  auto pct = FeeSchedule::Parse("2020-01-01,0,0.2,140\n", "f");
  ASSERT_FALSE(pct.ok());
  EXPECT_NE(pct.error().message.find("taker_percent '140'"), std::string::npos) << pct.error().message;
  EXPECT_FALSE(FeeSchedule::Parse("2020-13-01,0,0.2,0.3\n").ok());
}

TEST(RulesTest, InstrumentsFromTheTableOrDerivedFromTheData) {
  const InstrumentTable& k = InstrumentTable::Kraken();
  const Instrument xbt = k.For("XBTUSD", "XBT", "USD", 5, 8);
  EXPECT_TRUE(xbt.from_table);
  EXPECT_EQ(xbt.tick_size.ToString(), "0.1");
  EXPECT_EQ(xbt.min_order.ToString(), "0.0001");
  const Instrument odd = k.For("FOOBAR", "FOO", "BAR", 3, 6);
  EXPECT_FALSE(odd.from_table);
  EXPECT_EQ(odd.tick_size.ToString(), "0.001");
  EXPECT_EQ(odd.lot_size.ToString(), "0.000001");
  EXPECT_EQ(odd.min_order.ToString(), "0.000001");
  auto bad = InstrumentTable::Parse("XBTUSD,0.1,0.00000001\n", "pairs.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("pairs.csv:1"), std::string::npos);
  EXPECT_FALSE(InstrumentTable::Parse("XBTUSD,-0.1,1,1\n", "p").ok());
  EXPECT_EQ(CurrencyTable::Kraken().DecimalsOf("USD"), 4);
  EXPECT_EQ(CurrencyTable::Kraken().DecimalsOf("XBT"), 10);
  EXPECT_EQ(CurrencyTable::Kraken().DecimalsOf("NEWCOIN"), CurrencyTable::kDefaultDecimals);
  auto lat = Latency::ParseSamples("# ms\n10\n12.5\n", "lat.txt");
  ASSERT_TRUE(lat.ok());
  EXPECT_EQ((*lat)[1], 12500000);
  auto bad_lat = Latency::ParseSamples("10\nfast\n", "lat.txt");
  ASSERT_FALSE(bad_lat.ok());
  EXPECT_NE(bad_lat.error().message.find("lat.txt:2"), std::string::npos);
}

// Order types under each execution model ----------------------------------------------

TEST(VirtualExchangeTest, MarketOrderFillsAtTheNextTradeWithTakerFee) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i == 0) a.Buy(1, D("1"));
  });
  const Results r = Backtest(s, {T(0, "100", "5"), T(1, "101", "5")});
  const auto& fills = r.main().fills;
  ASSERT_EQ(fills.size(), 1u);
  EXPECT_EQ(fills[0].price.ToString(), "101") << "not the trade that triggered the order";
  EXPECT_FALSE(fills[0].maker);
  EXPECT_EQ(fills[0].fee.ToString(), "0.2626") << "101 x 0.26 %";
  EXPECT_EQ(r.currencies[fills[0].fee_currency], "USD");
  EXPECT_EQ(r.main().metrics.final_equity.ToString(), "99999.7374");
  EXPECT_EQ(r.main().balances.at("USD").ToString(), "99898.7374");
  EXPECT_EQ(r.main().balances.at("XBT").ToString(), "1");
  ASSERT_EQ(s.Of(OrderEvent::Kind::kAccepted).size(), 1u);
  ASSERT_EQ(s.Of(OrderEvent::Kind::kFilled).size(), 1u);
}

TEST(VirtualExchangeTest, ConservativeMarketOrdersPayHalfTheBounce) {
  // 100 -> 101 (buy-initiated) -> 100.5 (sell-initiated: a bounce of 0.5): half of it, 0.25,
  // rounded up to the 0.1 tick, is added to the next trade's price.
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i == 2) a.Buy(1, D("1"));
  });
  const Results r = Backtest(s, {T(0, "100", "5"), T(1, "101", "5"), T(2, "100.5", "5"), T(3, "101", "5")},
                        Options({Conservative()}));
  ASSERT_EQ(r.main().fills.size(), 1u);
  EXPECT_EQ(r.main().fills[0].price.ToString(), "101.3");
  EXPECT_EQ(r.main().fills[0].fee.ToString(), "0.2634") << "101.3 x 0.26 % = 0.26338, half-up to 4 decimals";
}

TEST(VirtualExchangeTest, FillsAreBoundedByTradedVolume) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i == 0) a.Buy(1, D("3"));
  });
  const Results r = Backtest(s, {T(0, "100", "5"), T(1, "101", "1"), T(2, "102", "0.5"), T(3, "103", "9")});
  const auto& f = r.main().fills;
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].quantity.ToString(), "1");
  EXPECT_EQ(f[1].quantity.ToString(), "0.5");
  EXPECT_EQ(f[2].quantity.ToString(), "1.5");
  EXPECT_EQ(s.Of(OrderEvent::Kind::kPartiallyFilled).size(), 2u);
  EXPECT_EQ(s.Of(OrderEvent::Kind::kFilled).size(), 1u);
}

TEST(VirtualExchangeTest, OptimisticLimitsFillOnTouchConservativeWaitForTheQueue) {
  // 99 traded 3 before the order rests at 99: that is the queue ahead of it.
  const std::vector<Trade> tape = {T(0, "99", "3"),   T(1, "100", "1"),  T(2, "99", "2"),
                                   T(3, "99", "2"),   T(4, "99.5", "1"), T(5, "98.9", "4")};
  auto strategy = [] {
    return Scripted([](Account& a, std::size_t i, const Trade&) {
      if (i == 1) a.Buy(1, D("2"), D("99"));
    });
  };
  Scripted opt = strategy(), con = strategy();
  const Results ro = Backtest(opt, tape);
  ASSERT_EQ(ro.main().fills.size(), 1u);
  EXPECT_EQ(ro.main().fills[0].time.ns, kT0 + 2) << "touch: the first trade at 99 fills the whole order";
  EXPECT_EQ(ro.main().fills[0].quantity.ToString(), "2");
  EXPECT_TRUE(ro.main().fills[0].maker);
  EXPECT_EQ(ro.main().fills[0].fee.ToString(), "0.3168") << "198 x 0.16 %";
  const Results rc = Backtest(con, tape, Options({Conservative()}));
  const auto& f = rc.main().fills;
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].time.ns, kT0 + 3) << "trade 2 (2 at 99) eats 2 of the 3 queued ahead; trade 3 the last one";
  EXPECT_EQ(f[0].quantity.ToString(), "1");
  EXPECT_EQ(f[1].time.ns, kT0 + 5) << "98.9 is through the limit by a tick";
  EXPECT_EQ(f[1].quantity.ToString(), "1");
  EXPECT_EQ(f[1].price.ToString(), "99");
}

TEST(VirtualExchangeTest, ConservativeBidsIgnoreBuyInitiatedTrades) {
  const std::vector<Trade> tape = {T(0, "100", "1"), T(1, "98.5", "1"), T(2, "98.7", "5"), T(3, "98.6", "5")};
  auto strategy = [] {
    return Scripted([](Account& a, std::size_t i, const Trade&) {
      if (i == 0) a.Buy(1, D("3"), D("99"));
    });
  };
  Scripted opt = strategy(), con = strategy();
  const Results ro = Backtest(opt, tape);
  ASSERT_EQ(ro.main().fills.size(), 2u);
  EXPECT_EQ(ro.main().fills[1].time.ns, kT0 + 2);
  const Results rc = Backtest(con, tape, Options({Conservative()}));
  ASSERT_EQ(rc.main().fills.size(), 2u);
  EXPECT_EQ(rc.main().fills[0].time.ns, kT0 + 1);
  EXPECT_EQ(rc.main().fills[1].time.ns, kT0 + 3) << "98.7 was an up-tick: a buyer took an offer, not our bid";
  EXPECT_EQ(rc.main().fills[1].quantity.ToString(), "2");
}

TEST(VirtualExchangeTest, StopOrdersTriggerThenExecuteFromTheNextTrade) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i == 0) a.Submit(Req(OrderType::kStopMarket, Side::kBuy, "1", nullptr, "105"));
    if (i == 0) a.Submit(Req(OrderType::kStopLimit, Side::kBuy, "1", "105.5", "105"));
  });
  const Results r = Backtest(s, {T(0, "100", "5"), T(1, "104", "5"), T(2, "105", "5"), T(3, "107", "5"), T(4, "105.5", "5")});
  EXPECT_EQ(s.Of(OrderEvent::Kind::kTriggered).size(), 2u);
  const auto& f = r.main().fills;
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].order, 1u);
  EXPECT_EQ(f[0].price.ToString(), "107") << "stop-market: the trade after the trigger";
  EXPECT_FALSE(f[0].maker);
  EXPECT_EQ(f[1].order, 2u);
  EXPECT_EQ(f[1].price.ToString(), "105.5") << "stop-limit: 107 is above its limit; it rests and fills at 105.5";
  EXPECT_TRUE(f[1].maker);
}

TEST(VirtualExchangeTest, PostOnlyIocAndFok) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i != 0) return;
    OrderRequest post = Req(OrderType::kLimit, Side::kBuy, "1", "100");
    post.post_only = true;
    a.Submit(post);  // 1: at the last price: it would take
    post.limit = D("99.9");
    a.Submit(post);  // 2: rests
    OrderRequest ioc = Req(OrderType::kLimit, Side::kBuy, "3", "101");
    ioc.tif = TimeInForce::kImmediateOrCancel;
    a.Submit(ioc);  // 3: 1 fills on the next trade, 2 are cancelled
    OrderRequest fok = ioc;
    fok.tif = TimeInForce::kFillOrKill;
    a.Submit(fok);  // 4: the next trade has 0 left after order 3 took its volume: killed
  });
  const Results r = Backtest(s, {T(0, "100", "5"), T(1, "100.5", "1"), T(2, "99.9", "5")});
  const auto& orders = r.main().orders;
  ASSERT_EQ(orders.size(), 4u);
  EXPECT_EQ(orders[0].status, OrderStatus::kCancelled);
  EXPECT_EQ(orders[0].reason, Reason::kPostOnlyWouldTake);
  EXPECT_EQ(orders[1].status, OrderStatus::kFilled);
  EXPECT_EQ(orders[2].filled.ToString(), "1");
  EXPECT_EQ(orders[2].reason, Reason::kUnfilledRemainder);
  EXPECT_EQ(orders[3].filled.ToString(), "0");
  EXPECT_EQ(orders[3].reason, Reason::kUnfilledRemainder);
  EXPECT_FALSE(r.main().fills[0].maker) << "the IOC took at 100.5";
  EXPECT_EQ(r.main().fills[0].price.ToString(), "100.5");
  // A FOK that the next trade can fill entirely.
  Scripted ok([](Account& a, std::size_t i, const Trade&) {
    OrderRequest fok = Req(OrderType::kLimit, Side::kBuy, "3", "101");
    fok.tif = TimeInForce::kFillOrKill;
    if (i == 0) a.Submit(fok);
  });
  const Results r2 = Backtest(ok, {T(0, "100", "5"), T(1, "100.5", "5")});
  ASSERT_EQ(r2.main().fills.size(), 1u);
  EXPECT_EQ(r2.main().fills[0].quantity.ToString(), "3");
}

TEST(VirtualExchangeTest, RejectionsSayWhy) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i != 0) return;
    a.Buy(1, D("2000"));                 // 200,000 USD: more than the cash
    a.Buy(1, D("0.00001"));              // below the 0.0001 minimum
    a.Buy(1, D("1"), D("99.95"));        // off the 0.1 tick
    a.Buy(1, D("0.000000001"));          // off the 1e-8 lot
    a.Buy(1, D("-1"));                   // negative
    a.Sell(1, D("1"));                   // nothing to sell: spot, no shorts
    a.Submit(Req(OrderType::kLimit, Side::kBuy, "1"));  // a limit without its price
    OrderRequest other = Req(OrderType::kMarket, Side::kBuy, "1");
    other.symbol = 9;
    a.Submit(other);                     // not a symbol of the backtest
  });
  (void)Backtest(s, {T(0, "100", "5"), T(1, "100", "5")});
  const auto rejected = s.Of(OrderEvent::Kind::kRejected);
  ASSERT_EQ(rejected.size(), 8u);
  const Reason expected[] = {Reason::kInsufficientFunds, Reason::kBelowMinimum, Reason::kOffTick,
                             Reason::kOffLot,            Reason::kNonPositive,  Reason::kInsufficientFunds,
                             Reason::kMissingPrice,      Reason::kUnknownSymbol};
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(rejected[i].reason, expected[i]) << i << ": " << ToString(rejected[i].reason);
  EXPECT_EQ(rejected[0].detail, "needs 200520 USD, 100000 available") << "2000 x 100 x 1.0026";
  EXPECT_EQ(rejected[1].detail, "quantity 0.00001 is below the minimum order 0.0001 of XBTUSD");
  EXPECT_EQ(rejected[2].detail, "limit price 99.95 is off the tick (0.1) of XBTUSD");
  EXPECT_EQ(rejected[4].detail, "quantity -1 is not positive");
  EXPECT_EQ(rejected[5].detail, "needs 1 XBT, 0 available");
}

// Every order type under every execution model, by hand. Trades are 1 s apart, so a
// 10 ms latency changes nothing but who arrives when; the conservative rule adds the
// bounce slippage and the aggressor side.
class EveryModelTest : public ::testing::TestWithParam<int> {
 protected:
  ExecutionModel Model() const {
    if (GetParam() == 0) return {"optimistic", FillRule::kTouch, {}};
    if (GetParam() == 1) return Conservative();
    ExecutionModel m{"latency", FillRule::kConservative, {}};
    m.latency.order_entry = std::chrono::milliseconds(10);
    return m;
  }
  bool conservative() const { return GetParam() != 0; }
  static constexpr std::int64_t kS = kNanosPerSecond;
};

TEST_P(EveryModelTest, MarketAndStopMarket) {
  // 100 -> 101 (buyer) -> 100.5 (seller: bounce 0.5) -> 105 (buyer: bounce 4.5, triggers) -> 106.
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i == 0) a.Submit(Req(OrderType::kStopMarket, Side::kBuy, "1", nullptr, "105"));
    if (i == 1) a.Buy(1, D("1"));
  });
  const Results r = Backtest(s, {T(0, "100", "5"), T(kS, "101", "5"), T(2 * kS, "100.5", "5"), T(3 * kS, "105", "5"),
                                 T(4 * kS, "106", "5")}, Options({Model()}));
  const auto& f = r.main().fills;
  ASSERT_EQ(f.size(), 2u);
  // The market order (id 2) fills on 100.5; no bounce is known before that trade (its own bounce
  // counts only after it: no look-ahead), so no slippage in any model.
  EXPECT_EQ(f[0].order, 2u);
  EXPECT_EQ(f[0].price.ToString(), "100.5");
  // The stop (id 1) triggers on 105 and fills on 106; conservative: bounces 0.5 and 4.5, half the mean 1.25 -> 107.3.
  EXPECT_EQ(f[1].order, 1u);
  EXPECT_EQ(f[1].price.ToString(), conservative() ? "107.3" : "106");
  EXPECT_FALSE(f[0].maker || f[1].maker);
}

TEST_P(EveryModelTest, LimitStopLimitAndPostOnly) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i != 0) return;
    a.Submit(Req(OrderType::kStopLimit, Side::kBuy, "1", "105.5", "105"));  // 1
    OrderRequest post = Req(OrderType::kLimit, Side::kBuy, "1", "100");
    post.post_only = true;
    a.Submit(post);  // 2: at the last price, it would take
    post.limit = D("99.9");
    a.Submit(post);  // 3: rests
  });
  // 99.9 (seller-initiated, nothing traded there before: no queue) fills order 3 in every model;
  // 105 triggers order 1, 107 is above its limit, 105.4 is through it by a tick (seller-initiated).
  const Results r = Backtest(s, {T(0, "100", "5"), T(kS, "99.9", "5"), T(2 * kS, "105", "5"), T(3 * kS, "107", "5"),
                                 T(4 * kS, "105.4", "5")}, Options({Model()}));
  const auto& o = r.main().orders;
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o[1].reason, Reason::kPostOnlyWouldTake);
  EXPECT_EQ(o[2].status, OrderStatus::kFilled);
  EXPECT_EQ(o[0].status, OrderStatus::kFilled);
  const auto& f = r.main().fills;
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].price.ToString(), "99.9");
  EXPECT_EQ(f[0].time.ns, kT0 + kS);
  EXPECT_EQ(f[1].price.ToString(), "105.5") << "at its limit, as maker";
  EXPECT_TRUE(f[1].maker);
  EXPECT_EQ(f[1].time.ns, kT0 + 4 * kS);
}

TEST_P(EveryModelTest, IocAndFok) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i != 0) return;
    OrderRequest ioc = Req(OrderType::kLimit, Side::kBuy, "3", "101");
    ioc.tif = TimeInForce::kImmediateOrCancel;
    a.Submit(ioc);  // takes 1 at 100.5 (no bounce yet: no slippage), the rest cancelled
    OrderRequest fok = Req(OrderType::kLimit, Side::kSell, "1", "100");
    fok.tif = TimeInForce::kFillOrKill;
    a.Submit(fok);  // nothing to sell: rejected
  });
  BacktestOptions o = Options({Model()});
  const Results r = Backtest(s, {T(0, "100", "5"), T(kS, "100.5", "1"), T(2 * kS, "100", "5")}, o);
  ASSERT_EQ(r.main().fills.size(), 1u);
  EXPECT_EQ(r.main().fills[0].quantity.ToString(), "1");
  EXPECT_EQ(r.main().fills[0].price.ToString(), "100.5");
  EXPECT_EQ(r.main().orders[0].reason, Reason::kUnfilledRemainder);
  EXPECT_EQ(r.main().orders[1].reason, Reason::kInsufficientFunds);
  // FOK: all of it on the first trade after arrival, or nothing.
  for (const char* volume : {"0.5", "5"}) {
    Scripted k([](Account& a, std::size_t i, const Trade&) {
      OrderRequest fok = Req(OrderType::kLimit, Side::kBuy, "2", "101");
      fok.tif = TimeInForce::kFillOrKill;
      if (i == 0) a.Submit(fok);
    });
    const Results rk = Backtest(k, {T(0, "100", "5"), T(kS, "100.5", volume), T(2 * kS, "100.5", "5")}, o);
    EXPECT_EQ(rk.main().fills.size(), std::string(volume) == "5" ? 1u : 0u) << volume;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, EveryModelTest, ::testing::Values(0, 1, 2),
                         [](const auto& p) { return std::string(p.param == 0 ? "Optimistic" : p.param == 1 ? "Conservative" : "Latency"); });

TEST(VirtualExchangeTest, LatencyDelaysOrdersAndCancels) {
  ExecutionModel slow{"latency", FillRule::kTouch, {}};
  slow.latency.order_entry = std::chrono::milliseconds(8);
  slow.latency.market_data = std::chrono::milliseconds(2);
  OrderId id = 0;
  Scripted s([&](Account& a, std::size_t i, const Trade&) {
    if (i == 0) a.Buy(1, D("1"));
    if (i == 0) id = a.Buy(1, D("1"), D("99"));
    if (i == 1) { EXPECT_TRUE(a.Cancel(id)); }  // sent at 5 ms: reaches the exchange at 15 ms
  });
  const Results r = Backtest(s, {T(0, "100", "5"), T(5 * kMs, "101", "5"), T(10 * kMs, "99", "5"), T(20 * kMs, "98", "5")},
                        Options({slow}));
  const auto& f = r.main().fills;
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].price.ToString(), "99") << "the market order reached the exchange at 10 ms, after the 101 trade";
  EXPECT_EQ(f[0].order, 1u);
  EXPECT_EQ(f[1].order, 2u) << "the limit filled at 10 ms, before its cancel arrived";
  EXPECT_EQ(r.main().orders[0].arrives.ns, kT0 + 10 * kMs);
}

TEST(VirtualExchangeTest, AmendAndCancel) {
  OrderId id = 0, other = 0;
  Scripted s([&](Account& a, std::size_t i, const Trade&) {
    if (i == 0) id = a.Buy(1, D("3"), D("99"));
    if (i == 0) other = a.Buy(1, D("1"), D("90"));
    if (i == 1) { EXPECT_TRUE(a.Amend(id, D("1"), std::nullopt)); }
    if (i == 1) { EXPECT_TRUE(a.Cancel(other)); }
    if (i == 2) { EXPECT_FALSE(a.Cancel(other)) << "already cancelled"; }
  });
  const Results r = Backtest(s, {T(0, "100", "5"), T(1, "99.5", "5"), T(2, "99", "5"), T(3, "80", "5")});
  ASSERT_EQ(r.main().fills.size(), 1u);
  EXPECT_EQ(r.main().fills[0].quantity.ToString(), "1");
  EXPECT_EQ(s.Of(OrderEvent::Kind::kAmended).size(), 1u);
  ASSERT_EQ(s.Of(OrderEvent::Kind::kCancelled).size(), 1u);
  EXPECT_EQ(s.Of(OrderEvent::Kind::kCancelled)[0].reason, Reason::kCancelledByStrategy);
}

TEST(VirtualExchangeTest, FeesFollowTheTierAndTheDatedSchedule) {
  // 600 x 100 = 60,000 USD per fill: the second fill is in the 50,000 tier (0.24 %).
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i <= 1) a.Buy(1, D("600"));
  });
  BacktestOptions o = Options();
  o.initial_cash["USD"] = A("1000000");
  const Results r = Backtest(s, {T(0, "100", "1000"), T(kDay, "100", "1000"), T(2 * kDay, "100", "1000")}, o);
  ASSERT_EQ(r.main().fills.size(), 2u);
  EXPECT_EQ(r.main().fills[0].fee.ToString(), "156") << "60,000 x 0.26 %";
  EXPECT_EQ(r.main().fills[1].fee.ToString(), "144") << "60,000 x 0.24 %";
  // Across the 2025-01-01 schedule change: 0.26 % on Dec 31, 0.40 % on Jan 1.
  const std::int64_t dec31 = 1735603200LL * kNanosPerSecond - kT0;
  Scripted t([](Account& a, std::size_t i, const Trade&) {
    if (i == 0 || i == 2) a.Buy(1, D("1"));
  });
  const Results r2 = Backtest(t, {T(dec31, "100", "5"), T(dec31 + 1, "100", "5"), T(dec31 + kDay, "100", "5"),
                             T(dec31 + kDay + 1, "100", "5")});
  ASSERT_EQ(r2.main().fills.size(), 2u);
  EXPECT_EQ(r2.main().fills[0].fee.ToString(), "0.26");
  EXPECT_EQ(r2.main().fills[1].fee.ToString(), "0.4");
}

TEST(VirtualExchangeTest, FeeInBaseIsTakenFromTheCoins) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i == 0) a.Buy(1, D("1"));
  });
  BacktestOptions o = Options();
  o.fee_in_base = true;
  const Results r = Backtest(s, {T(0, "100", "5"), T(1, "100", "5")}, o);
  ASSERT_EQ(r.main().fills.size(), 1u);
  EXPECT_EQ(r.main().fills[0].fee.ToString(), "0.0026");
  EXPECT_EQ(r.currencies[r.main().fills[0].fee_currency], "XBT");
  EXPECT_EQ(r.main().balances.at("XBT").ToString(), "0.9974");
  EXPECT_EQ(r.main().balances.at("USD").ToString(), "99900");
  // Selling everything needs the fee on top: SellableQuantity leaves room for it, and the
  // round trip closes (the dust left is below the minimum order).
  Scripted t([](Account& a, std::size_t i, const Trade&) {
    if (i == 0) a.Buy(1, D("1"));
    if (i == 2) {
      EXPECT_EQ(a.SellableQuantity(1).ToString(), "0.99481348") << "0.9974 / 1.0026, whole lots";
      a.Sell(1, a.SellableQuantity(1));
    }
  });
  const Results r2 = Backtest(t, {T(0, "100", "5"), T(1, "100", "5"), T(2, "110", "5"), T(3, "110", "5")}, o);
  ASSERT_EQ(r2.main().fills.size(), 2u);
  EXPECT_EQ(r2.main().fills[1].fee.ToString(), "0.002586515") << "0.99481348 x 0.26 % = 0.002586515048, half-up at 10 decimals";
  ASSERT_EQ(r2.main().round_trips.size(), 1u);
  EXPECT_LT(r2.main().balances.at("XBT"), A("0.0001"));
}

// Currencies -----------------------------------------------------------------------------

TEST(CurrencyTest, BuyingXbtEurSpendsEuros) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i == 1) a.Buy(2, D("0.01"));
  });
  BacktestOptions o = Options();
  o.instruments[2] = Pair("XBTEUR", "XBT", "EUR");
  o.initial_cash = {{"USD", A("1000")}, {"EUR", A("1000")}};
  const Results r = Backtest(s, {T(0, "30000", "1", 1), T(1, "27000", "1", 2), T(2, "27000", "1", 2)}, o);
  const auto& b = r.main().balances;
  EXPECT_EQ(b.at("EUR").ToString(), "729.298") << "1000 - 270 - 0.702 (0.26 %)";
  EXPECT_EQ(b.at("XBT").ToString(), "0.01");
  EXPECT_EQ(b.at("USD").ToString(), "1000");
  // Valued in USD: EUR through XBT (1/27000 XBT per EUR, then 30000 USD per XBT).
  EXPECT_EQ(r.conversion_paths.at("EUR"), (std::vector<SymbolId>{2, 1}));
  Amount eur_in_xbt, eur_in_usd;
  ASSERT_TRUE(Amount::Div(A("729.298"), A("27000"), 18, Rounding::kHalfEven, &eur_in_xbt));
  ASSERT_TRUE(Amount::Mul(eur_in_xbt, D("30000"), &eur_in_usd));
  Amount expected;
  ASSERT_TRUE(Amount::Add(A("1300"), eur_in_usd, &expected));  // 1000 USD + 0.01 XBT x 30000
  EXPECT_EQ(r.main().metrics.final_equity, expected) << r.main().metrics.final_equity.ToString();
  EXPECT_GT(r.max_rate_age_seconds.at("XBT"), -1);
}

TEST(CurrencyTest, ConversionThroughAPathAndNeverAtALaterRate) {
  BacktestOptions o = Options();
  o.instruments[2] = Pair("ETHXBT", "ETH", "XBT", "0.00001", "0.002");
  o.initial_cash = {{"USD", A("100000")}, {"ETH", A("10")}};
  o.bar_resolution = TimeResolution::kOneMinute;
  Scripted s([](Account&, std::size_t, const Trade&) {});
  // ETH cannot be valued until both ETHXBT and XBTUSD have traded: no equity point before.
  const Results r = Backtest(s, {T(0, "0.05", "1", 2), T(90 * kNanosPerSecond, "20000", "1", 1),
                            T(200 * kNanosPerSecond, "0.06", "1", 2)}, o);
  EXPECT_EQ(r.conversion_paths.at("ETH"), (std::vector<SymbolId>{2, 1}));
  ASSERT_FALSE(r.main().equity.empty());
  EXPECT_GE(r.main().equity.front().time.ns, kT0 + 90 * kNanosPerSecond) << "not valued before XBTUSD traded";
  EXPECT_EQ(r.main().metrics.final_equity.ToString(), "112000") << "100000 + 10 x 0.06 x 20000";
  EXPECT_NEAR(r.max_rate_age_seconds.at("ETH"), 180, 1e-9) << "at the 180 s point ETHXBT's 0.05 was 180 s old";
}

// Strategy API ---------------------------------------------------------------------------

TEST(StrategyApiTest, ParametersAreTypedAndNamed) {
  const StrategyInfo* sma = FindStrategy("sma-cross");
  ASSERT_NE(sma, nullptr);
  auto ok = Parameters::Bind("sma-cross", sma->params, {"fast=5", "slow=20"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->Integer("fast"), 5);
  EXPECT_EQ(ok->Value("fraction").ToString(), "0.95");
  auto unknown = Parameters::Bind("sma-cross", sma->params, {"fsat=5"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown parameter 'fsat' for strategy sma-cross (it takes: fast, slow, fraction)"),
            std::string::npos)
      << unknown.error().message;
  auto type = Parameters::Bind("sma-cross", sma->params, {"fast=2.5"});
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.error().message.find("parameter fast of sma-cross: '2.5' is not an integer"), std::string::npos)
      << type.error().message;
  auto range = Parameters::Bind("sma-cross", sma->params, {"fraction=2"});
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.error().message.find("fraction"), std::string::npos);
  auto bound = Parameters::Bind("sma-cross", sma->params, {"fast=30", "slow=10"});
  ASSERT_TRUE(bound.ok());
  EXPECT_FALSE(sma->check(*bound).ok()) << "fast must be below slow";
  EXPECT_FALSE(Parameters::Bind("sma-cross", sma->params, {"fast"}).ok());
}

TEST(StrategyApiTest, TimersFireOnEventTime) {
  std::vector<std::int64_t> fired;
  class Timed final : public Strategy {
   public:
    explicit Timed(std::vector<std::int64_t>* out) : out_(out) {}
    std::string name() const override { return "timed"; }
    void OnStart(Account& a) override { a.SetTimer(UnixNanos{kT0 + 50}, 7); }
    void OnTimer(Account& a, std::uint64_t tag) override {
      out_->push_back(a.now().ns - kT0);
      EXPECT_EQ(tag, 7u);
      if (out_->size() < 3) a.SetTimer(a.now() + std::chrono::nanoseconds(100), 7);
    }
    std::vector<std::int64_t>* out_;
  } s(&fired);
  (void)Backtest(s, {T(0, "100", "1"), T(60, "100", "1"), T(400, "100", "1")});
  EXPECT_EQ(fired, (std::vector<std::int64_t>{50, 150, 250}));
}

TEST(StrategyApiTest, AStrategyThatLoopsOnItsOwnRejectionsIsStopped) {
  class Loop final : public Strategy {
   public:
    std::string name() const override { return "loop"; }
    void OnTrade(Account& a, const Trade&) override { a.Buy(1, D("1000000")); }
    void OnOrder(Account& a, const OrderEvent& e) override {
      if (e.kind == OrderEvent::Kind::kRejected) a.Buy(1, D("1000000"));
    }
  } s;
  Backtester bt(s, Options());
  const Status st = bt.OnTrade(T(0, "100", "1"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("strategy loop placed more than"), std::string::npos) << st.error().message;
}

// Round trips and outputs ------------------------------------------------------------------

TEST(RoundTripTest, QuantityIsTheSumOfFillsAndPricesAreVolumeWeighted) {
  Scripted s([](Account& a, std::size_t i, const Trade&) {
    if (i == 0) a.Buy(1, D("3"));
    if (i == 4) a.Sell(1, D("3"));
  });
  const Results r = Backtest(s, {T(0, "100", "5"), T(1, "100", "1"), T(2, "110", "0.5"), T(3, "120", "9"),
                            T(4, "130", "9"), T(5, "125", "2"), T(6, "121", "9")});
  ASSERT_EQ(r.main().round_trips.size(), 1u);
  const RoundTrip& t = r.main().round_trips[0];
  EXPECT_EQ(t.fills, 5u);
  EXPECT_EQ(t.quantity.ToString(), "3");
  EXPECT_EQ(t.bought_notional.ToString(), "335") << "1 x 100 + 0.5 x 110 + 1.5 x 120";
  EXPECT_EQ(t.EntryPrice().ToString(), "111.666666666667");
  EXPECT_EQ(t.ExitPrice().ToString(), "123.666666666667") << "(2 x 125 + 1 x 121) / 3";
  // Fees: 0.26 % of each fill, 4 decimals: 0.26 + 0.143 + 0.468 + 0.65 + 0.3146.
  EXPECT_EQ(t.fees_quote.ToString(), "1.8356");
  EXPECT_EQ(t.pnl.ToString(), "34.1644") << "371 - 335 - 1.8356";
  const std::string trips = TripsCsv(r, {{1, "XBTUSD"}});
  EXPECT_NE(trips.find("optimistic,XBTUSD,2023-01-01T00:00:00.000000001Z,2023-01-01T00:00:00.000000006Z,3,"
                       "111.666666666667,123.666666666667,5,1.8356,34.1644,34.1644\n"),
            std::string::npos)
      << trips;
  const std::string fills = FillsCsv(r, {{1, "XBTUSD"}});
  EXPECT_EQ(fills.substr(0, fills.find('\n')),
            "time,model,symbol,order_id,side,price,quantity,fee,fee_currency,liquidity,realized_pnl");
  EXPECT_NE(fills.find(",optimistic,XBTUSD,1,buy,110,0.5,0.143,USD,taker,0\n"), std::string::npos) << fills;
  EXPECT_NE(OrdersCsv(r, {{1, "XBTUSD"}}).find("optimistic,2,XBTUSD,sell,market,gtc,0,3,,,"), std::string::npos);
}

// Properties ----------------------------------------------------------------------------------

std::vector<Trade> Tape(std::uint64_t seed, std::size_t n, std::int64_t spacing_ns, SymbolId symbol = 1) {
  std::vector<Trade> trades;
  std::int64_t p = 200000;  // 20000.0 at a 0.1 tick
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    p = std::max<std::int64_t>(1000, p + static_cast<std::int64_t>(x >> 33) % 801 - 398);
    Trade t;
    t.time = UnixNanos{kT0 + static_cast<std::int64_t>(i) * spacing_ns};
    (void)Decimal::FromParts(p, 1, &t.price);
    (void)Decimal::FromParts(static_cast<std::int64_t>(x >> 40) % 100000 + 1, 4, &t.volume);
    t.symbol = symbol;
    trades.push_back(t);
  }
  return trades;
}

Results RunAll(const StrategyFactory& make, const std::vector<Trade>& trades, BacktestOptions o) {
  Backtester bt(make, std::move(o));
  for (const Trade& t : trades) EXPECT_TRUE(bt.OnTrade(t).ok());
  auto r = bt.Finish();
  EXPECT_TRUE(r.ok());
  return r.ok() ? std::move(*r) : Results{};
}

TEST(PropertyTest, ConservativeNeverBeatsOptimisticOnAThousandTapes) {
  BacktestOptions o = Options(DefaultModels());
  ASSERT_EQ(o.models[0].rule, FillRule::kTouch);
  std::size_t traded = 0;
  for (std::uint64_t seed = 1; seed <= 1000; ++seed) {
    const auto tape = Tape(seed, 1500, 96 * 60 * kNanosPerSecond);  // 100 days
    for (int k = 0; k < 2; ++k) {
      const StrategyFactory make = k == 0 ? StrategyFactory([] { return std::make_unique<BreakoutStrategy>(); })
                                          : StrategyFactory([] { return std::make_unique<SmaCrossStrategy>(3, 8); });
      const Results r = RunAll(make, tape, o);
      ASSERT_EQ(r.runs.size(), 2u);
      traded += !r.runs[0].fills.empty();
      ASSERT_LE(r.runs[1].metrics.final_equity, r.runs[0].metrics.final_equity)
          << "seed " << seed << " strategy " << k << ": conservative " << r.runs[1].metrics.final_equity.ToString()
          << " optimistic " << r.runs[0].metrics.final_equity.ToString();
    }
  }
  EXPECT_GT(traded, 1000u) << "most tapes must trade for the property to mean something";
}

TEST(PropertyTest, NoLookAheadDecisionsMatchOnPrefixes) {
  const auto trades = Tape(7, 6000, 96 * 60 * kNanosPerSecond);
  const StrategyFactory make = [] { return std::make_unique<BreakoutStrategy>(); };
  const Results rf = RunAll(make, trades, Options(DefaultModels()));
  ASSERT_GT(rf.main().fills.size(), 2u) << "the tape must trade";
  const std::vector<Trade> prefix(trades.begin(), trades.begin() + 3000);
  const Results rp = RunAll(make, prefix, Options(DefaultModels()));
  for (std::size_t m = 0; m < 2; ++m) {
    std::size_t n = 0;
    while (n < rp.runs[m].fills.size() && rp.runs[m].fills[n].time < prefix.back().time) ++n;
    ASSERT_GT(n, 0u);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(rp.runs[m].fills[i].time, rf.runs[m].fills[i].time) << i;
      EXPECT_EQ(rp.runs[m].fills[i].quantity, rf.runs[m].fills[i].quantity) << i;
      EXPECT_EQ(rp.runs[m].fills[i].price, rf.runs[m].fills[i].price) << i;
    }
  }
}

TEST(PropertyTest, ReRunsGiveIdenticalOutput) {
  const auto trades = Tape(11, 6000, 96 * 60 * kNanosPerSecond);
  const StrategyFactory make = [] { return std::make_unique<SmaCrossStrategy>(); };
  RunConfig c;
  c.strategy = "sma-cross";
  const Results a = RunAll(make, trades, Options(DefaultModels())), b = RunAll(make, trades, Options(DefaultModels()));
  EXPECT_EQ(ResultsJson(a, c, {}), ResultsJson(b, c, {}));
  EXPECT_EQ(FillsCsv(a, {}), FillsCsv(b, {}));
  EXPECT_EQ(HtmlReport(a, c, {}), HtmlReport(b, c, {}));
}

// A random trader over three pairs and four currencies that keeps its own ledger
// from its fill events and checks the account against it at every trade.
class RandomTrader final : public Strategy {
 public:
  explicit RandomTrader(std::map<std::string, Amount> cash) : ledger_(std::move(cash)) {}
  std::string name() const override { return "random"; }
  void OnTrade(Account& a, const Trade& t) override {
    last_[t.symbol] = t.price;
    for (const auto& [c, v] : ledger_) {
      if (a.balance(c) != v) ++mismatches;
    }
    x_ = x_ * 6364136223846793005ULL + 1442695040888963407ULL;
    if ((x_ >> 60) > 4) return;
    const Instrument& in = a.instrument(t.symbol);
    const bool buy = (x_ >> 20) & 1;
    Decimal q;
    (void)Decimal::FromParts(static_cast<std::int64_t>((x_ >> 24) % 5000 + 200), 6, &q);
    if (!buy) q = std::min(q, Holding(a, t.symbol));
    if (!(q >= in.min_order)) return;
    if ((x_ >> 40) & 1) {
      a.Submit(OrderRequest{t.symbol, buy ? Side::kBuy : Side::kSell, OrderType::kMarket, q, {}, {}, {}, false, {}});
    } else {
      const Decimal limit = a.ToTick(t.symbol, t.price, !buy);
      a.Submit(OrderRequest{t.symbol, buy ? Side::kBuy : Side::kSell, OrderType::kLimit, q, limit, {}, {}, false, {}});
    }
  }
  void OnOrder(Account& a, const OrderEvent& e) override {
    if (!e.fill) return;
    const Fill& f = *e.fill;
    const Instrument& in = a.instrument(f.symbol);
    Amount notional;
    ASSERT_TRUE(Amount::Mul(f.quantity, f.price, &notional));
    const bool buy = f.side == Side::kBuy;
    Add(in.quote, buy ? -notional : notional);
    Add(in.base, buy ? f.quantity : -f.quantity);
    Add(in.quote, -f.fee);  // fees in the quote currency (the default)
  }
  void OnEnd(Account& a) override {
    // Equity = every balance valued through the same paths, recomputed here.
    Amount e = ledger_["USD"], v;
    ASSERT_TRUE(Amount::Mul(ledger_["XBT"], last_[1], &v));
    ASSERT_TRUE(Amount::Add(e, v, &e));
    ASSERT_TRUE(Amount::Div(ledger_["EUR"], Amount::FromDecimal(last_[2]), 18, Rounding::kHalfEven, &v));
    ASSERT_TRUE(Amount::Mul(v, last_[1], &v));
    ASSERT_TRUE(Amount::Add(e, v, &e));
    ASSERT_TRUE(Amount::Mul(ledger_["ETH"], last_[3], &v));
    ASSERT_TRUE(Amount::Mul(v, last_[1], &v));
    ASSERT_TRUE(Amount::Add(e, v, &e));
    expected_equity = e;
    for (const auto& [c, val] : ledger_) {
      if (a.balance(c) != val) ++mismatches;
    }
  }
  std::uint64_t mismatches = 0;
  Amount expected_equity;

 private:
  void Add(const std::string& c, Amount v) { ASSERT_TRUE(Amount::Add(ledger_[c], v, &ledger_[c])); }
  std::map<std::string, Amount> ledger_;
  std::map<SymbolId, Decimal> last_;
  std::uint64_t x_ = 99;
};

TEST(PropertyTest, TheAccountingIdentityHoldsExactlyOverALongRunInFourCurrencies) {
  BacktestOptions o = Options({Conservative()});
  o.instruments[2] = Pair("XBTEUR", "XBT", "EUR");
  o.instruments[3] = Pair("ETHXBT", "ETH", "XBT", "0.00001", "0.002");
  o.initial_cash = {{"USD", A("100000")}, {"EUR", A("50000")}, {"XBT", A("1")}, {"ETH", A("0")}};
  // Three interleaved tapes: XBTUSD near 20000, XBTEUR near 18500, ETHXBT near 0.07.
  std::vector<Trade> trades;
  const auto usd = Tape(1, 20000, 60 * kNanosPerSecond, 1), eur = Tape(2, 20000, 60 * kNanosPerSecond, 2);
  std::uint64_t x = 5;
  for (std::size_t i = 0; i < usd.size(); ++i) {
    trades.push_back(usd[i]);
    Trade e = eur[i];
    e.time.ns += 20 * kNanosPerSecond;
    (void)Decimal::FromParts(e.price.mantissa() * 925 / 1000, 1, &e.price);
    trades.push_back(e);
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    Trade eth{UnixNanos{usd[i].time.ns + 40 * kNanosPerSecond}, {}, {}, 3};
    (void)Decimal::FromParts(7000 + static_cast<std::int64_t>(x >> 54), 5, &eth.price);
    (void)Decimal::FromParts(static_cast<std::int64_t>(x >> 44) % 90000 + 100, 4, &eth.volume);
    trades.push_back(eth);
  }
  RandomTrader s(o.initial_cash);
  Backtester bt(s, o);
  for (const Trade& t : trades) ASSERT_TRUE(bt.OnTrade(t).ok());
  auto r = bt.Finish();
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->main().fills.size(), 500u);
  EXPECT_EQ(s.mismatches, 0u);
  // The identity per currency from the fills alone.
  std::map<std::string, Amount> ledger = o.initial_cash;
  const std::map<SymbolId, std::pair<std::string, std::string>> pairs = {
      {1, {"XBT", "USD"}}, {2, {"XBT", "EUR"}}, {3, {"ETH", "XBT"}}};
  for (const Fill& f : r->main().fills) {
    Amount notional;
    ASSERT_TRUE(Amount::Mul(f.quantity, f.price, &notional));
    const auto& [base, quote] = pairs.at(f.symbol);
    const bool buy = f.side == Side::kBuy;
    ASSERT_TRUE(Amount::Add(ledger[quote], buy ? -notional : notional, &ledger[quote]));
    ASSERT_TRUE(Amount::Add(ledger[base], buy ? f.quantity : -f.quantity, &ledger[base]));
    ASSERT_TRUE(Amount::Sub(ledger[r->currencies[f.fee_currency]], f.fee, &ledger[r->currencies[f.fee_currency]]));
  }
  for (const auto& [c, v] : ledger) {
    const auto it = r->main().balances.find(c);
    EXPECT_EQ(it == r->main().balances.end() ? Amount() : it->second, v) << c;
  }
  EXPECT_EQ(r->main().metrics.final_equity, s.expected_equity)
      << r->main().metrics.final_equity.ToString() << " vs " << s.expected_equity.ToString();
}

// Metrics and report ------------------------------------------------------------------------

TEST(MetricsTest, HandComputedCurve) {
  const std::vector<EquityPoint> eq = {{UnixNanos{0}, A("100"), {}},
                                       {UnixNanos{kDay}, A("110"), {}},
                                       {UnixNanos{2 * kDay}, A("99"), {}},
                                       {UnixNanos{3 * kDay}, A("121"), {}}};
  const Metrics m = ComputeMetrics(eq, {}, 4);
  EXPECT_NEAR(*m.total_return, 0.21, 1e-12);
  EXPECT_NEAR(m.max_drawdown, 0.1, 1e-12);
  EXPECT_NEAR(*m.cagr, std::pow(1.21, 365.25 / 3) - 1, 1e-9);
  // Returns 0.1, -0.1, 0.2222: mean 0.074074, sample sd 0.162669, 365.25 periods a year.
  EXPECT_NEAR(*m.sharpe, 0.0740741 / 0.1626689 * std::sqrt(365.25), 1e-3);
  EXPECT_NEAR(*m.sortino, 0.0740740 / std::sqrt(0.01 / 3) * std::sqrt(365.25), 1e-3);
  EXPECT_FALSE(m.win_rate.has_value()) << "no trips: undefined, not 0";
  const std::string json = m.ToJson();
  EXPECT_NE(json.find("\"total_return\": 0.210000"), std::string::npos);
  EXPECT_NE(json.find("\"final_equity\": \"121\""), std::string::npos) << "amounts as exact strings";
  EXPECT_NE(json.find("\"win_rate\": null"), std::string::npos);
}

TEST(ReportTest, DownsamplingKeepsTheExtremes) {
  std::vector<EquityPoint> curve;
  for (int i = 0; i < 100000; ++i) {
    curve.push_back({UnixNanos{i}, Amount::FromInt(1000 + (i % 977) - (i == 51234 ? 5000 : 0)), {}});
  }
  const auto d = Downsample(curve, 4000);
  EXPECT_LE(d.size(), 4000u);
  EXPECT_GT(d.size(), 2000u);
  Amount lo = d[0].equity;
  for (std::size_t i = 1; i < d.size(); ++i) {
    EXPECT_LT(d[i - 1].time, d[i].time);
    lo = std::min(lo, d[i].equity);
  }
  EXPECT_EQ(lo, Amount::FromInt(1000 + 51234 % 977 - 5000)) << "the deepest point survives";
  EXPECT_EQ(d.back().time, curve.back().time);
}

TEST(ReportTest, IsSelfContainedAndHoldsEveryModelAndTheBenchmark) {
  const auto trades = Tape(3, 6000, 96 * 60 * kNanosPerSecond);
  const Results r = RunAll([] { return std::make_unique<SmaCrossStrategy>(); }, trades, Options(DefaultModels()));
  RunConfig c;
  c.strategy = "SMA <test>";
  c.symbols = {"XBTUSD"};
  const std::string html = HtmlReport(r, c, {{1, "XBTUSD"}});
  EXPECT_NE(html.find("SMA &lt;test&gt;"), std::string::npos);
  for (const char* network : {"src=\"http", "href=\"http", "url(http", "fetch(", "<script src", "<link"}) {
    EXPECT_EQ(html.find(network), std::string::npos) << "no network references: " << network;
  }
  EXPECT_NE(html.find("uPlot"), std::string::npos) << "the charting library is embedded";
  EXPECT_NE(html.find("The MIT License"), std::string::npos) << "with its licence";
  for (const char* id : {"id=\"equity\"", "id=\"drawdown\"", "id=\"rolling\"", "id=\"exposure\"", "id=\"pnl-hist\"",
                         "id=\"monthly\"", "id=\"drawdowns\"", "id=\"attribution\"", "id=\"band\"", "id=\"config\""}) {
    EXPECT_NE(html.find(id), std::string::npos) << id;
  }
  EXPECT_EQ(html.find("Math.min(..."), std::string::npos) << "spreads overflow the stack on long series";
  EXPECT_NE(html.find("<th>optimistic</th><th>conservative</th><th>buy and hold</th>"), std::string::npos);
  // The tearsheet's numbers: monthly returns chain to the total; drawdowns are ordered.
  const Tearsheet ts = Analyze(r.main());
  double chained = 1;
  for (const auto& m : ts.monthly) chained *= 1 + m.ret;
  EXPECT_NEAR(chained - 1, *r.main().metrics.total_return, 1e-9);
  double yearly = 1;
  for (const auto& y : ts.yearly) yearly *= 1 + y.ret;
  EXPECT_NEAR(yearly - 1, *r.main().metrics.total_return, 1e-9);
  ASSERT_FALSE(ts.worst_drawdowns.empty());
  EXPECT_NEAR(ts.worst_drawdowns[0].depth, r.main().metrics.max_drawdown, 1e-12);
  for (std::size_t i = 1; i < ts.worst_drawdowns.size(); ++i) EXPECT_LE(ts.worst_drawdowns[i].depth, ts.worst_drawdowns[i - 1].depth);
  std::uint64_t binned = 0;
  for (auto count : ts.pnl_counts) binned += count;
  EXPECT_EQ(binned, r.main().round_trips.size());
  ASSERT_FALSE(r.benchmark.empty());
  EXPECT_EQ(r.benchmark.size(), r.main().equity.size());
  // Buy and hold: all the cash into the first trade's price, valued at the last.
  Amount units, value;
  ASSERT_TRUE(Amount::Div(A("100000"), Amount::FromDecimal(trades.front().price), 18, Rounding::kFloor, &units));
  ASSERT_TRUE(Amount::Mul(units, trades.back().price, &value));
  EXPECT_EQ(r.benchmark.back().equity, value);
}

}  // namespace
}  // namespace tickflow::backtest

namespace tickflow::backtest {
namespace {

// The same metrics, configuration JSON and fills, with some fills.
void ExpectSameResults(const Result<Results>& r, const Results& want) {
  ASSERT_TRUE(r.ok()) << r.error().message;
  RunConfig c;
  EXPECT_EQ(ResultsJson(*r, c, {}), ResultsJson(want, c, {}));
  EXPECT_EQ(FillsCsv(*r, {}), FillsCsv(want, {}));
  EXPECT_GT(r->main().fills.size(), 0u);
}

TEST(ThreadedTest, GivesTheSameResultsAsTheCallersThread) {
  const auto trades = Tape(21, 20000, 10 * 60 * kNanosPerSecond);
  const StrategyFactory make = [] { return std::make_unique<BreakoutStrategy>(); };
  const Results direct = RunAll(make, trades, Options(DefaultModels()));
  ThreadedBacktester threaded(make, Options(DefaultModels()), {.queue_trades = 1024});
  for (const Trade& t : trades) ASSERT_TRUE(threaded.OnTrade(t).ok());
  ExpectSameResults(threaded.Finish(), direct);
}

TEST(ThreadedTest, BatchesThatWrapTheQueueGiveTheSameResults) {
  const auto trades = Tape(23, 20000, 10 * 60 * kNanosPerSecond);
  const StrategyFactory make = [] { return std::make_unique<BreakoutStrategy>(); };
  const Results direct = RunAll(make, trades, Options(DefaultModels()));
  // Batches of uneven sizes, some larger than the 1,024-trade queue: each is
  // copied in pieces around the ring's end and as room frees up.
  ThreadedBacktester threaded(make, Options(DefaultModels()), {.queue_trades = 1024});
  for (std::size_t i = 0, n = 1; i < trades.size(); i += n, n = n % 2500 + 333) {
    ASSERT_TRUE(threaded.OnTrades(std::span(trades).subspan(i, std::min(n, trades.size() - i))).ok());
  }
  ExpectSameResults(threaded.Finish(), direct);
}

TEST(BatchTest, TradesInBatchesGiveWhatTheyGiveOneByOne) {
  const auto trades = Tape(22, 20000, 10 * 60 * kNanosPerSecond);
  const StrategyFactory make = [] { return std::make_unique<BreakoutStrategy>(); };
  const Results single = RunAll(make, trades, Options(DefaultModels()));
  Backtester bt(make, Options(DefaultModels()));
  for (std::size_t i = 0, n = 1; i < trades.size(); i += n, n = n % 300 + 7) {  // uneven batches
    ASSERT_TRUE(bt.OnTrades(std::span(trades).subspan(i, std::min(n, trades.size() - i))).ok());
  }
  ExpectSameResults(bt.Finish(), single);
}

TEST(BatchTest, ATradeOutOfOrderInsideABatchIsNamed) {
  Backtester bt([] { return std::make_unique<SmaCrossStrategy>(); }, Options());
  const std::vector<Trade> batch = {T(10, "1", "1"), T(11, "1", "1"), T(5, "1", "1"), T(12, "1", "1")};
  const Status s = bt.OnTrades(batch);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("trades must come in time order"), std::string::npos) << s.error().message;
}

TEST(ThreadedTest, ErrorsOfTheBacktestReachTheCaller) {
  ThreadedBacktester bt([] { return std::make_unique<SmaCrossStrategy>(); }, Options());
  ASSERT_TRUE(bt.OnTrade(T(10, "1", "1")).ok());
  (void)bt.OnTrade(T(5, "1", "1"));  // out of order: fails on the strategy thread
  auto r = bt.Finish();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("time order"), std::string::npos) << r.error().message;
}

TEST(ThreadedTest, AStuckStrategyIsReportedNotWaitedForever) {
  std::atomic<bool> release{false};
  class Stuck final : public Strategy {
   public:
    explicit Stuck(std::atomic<bool>* r) : release_(r) {}
    std::string name() const override { return "stuck"; }
    void OnTrade(Account&, const Trade&) override {
      while (!release_->load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::atomic<bool>* release_;
  };
  ThreadedBacktester bt([&] { return std::make_unique<Stuck>(&release); }, Options(),
                        {.queue_trades = 1024, .stall = std::chrono::milliseconds(200)});
  Status st;
  for (int i = 0; i < 5000 && st.ok(); ++i) st = bt.OnTrade(T(i, "100", "1"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("the strategy thread made no progress for 200 ms"), std::string::npos)
      << st.error().message;
  release = true;
}

}  // namespace
}  // namespace tickflow::backtest
