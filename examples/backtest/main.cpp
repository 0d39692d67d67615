// backtest: a custom strategy in a few dozen lines. Buys the dip: when a trade
// prints 3 % below the day's high, buy with half the cash at a limit 0.5 %
// under it; take profit with a limit 2 % above the entry.
//
//   backtest STORE.db SYMBOL_ID
#include <cstdio>
#include <cstdlib>

#include "tickflow/backtest/backtest.hpp"
#include "tickflow/backtest/strategies.hpp"
#include "tickflow/client/client.hpp"
#include "tickflow/gateway/gateway.hpp"

using namespace tickflow;  // NOLINT: an example's only namespace

class BuyTheDip final : public backtest::Strategy {
 public:
  std::string name() const override { return "buy-the-dip"; }
  void OnTrade(backtest::Account& a, const Trade& t) override {
    const std::int64_t day = t.time.ns / kNanosPerDay;
    if (day != day_) day_ = day, high_ = t.price;
    if (t.price > high_) high_ = t.price;
    if (a.open_orders(t.symbol) != 0) return;
    const Decimal held = backtest::Holding(a, t.symbol);
    if (held < a.instrument(t.symbol).min_order && t.price.ToDouble() < high_.ToDouble() * 0.97) {
      // Half the cash, at a limit 0.5 % under the trade (rounded down to the tick).
      const Decimal limit = a.ToTick(t.symbol, Scaled(t.price, 995), false);
      a.Buy(t.symbol, backtest::QuantityForFraction(a, t.symbol, Scaled(Decimal::FromRaw(1 << Decimal::kScaleBits), 500), limit), limit);
    } else if (held >= a.instrument(t.symbol).min_order) {
      // Take profit 2 % above the average entry (rounded up to the tick).
      const backtest::Position& p = a.position(t.symbol);
      backtest::Amount average;
      Decimal entry;
      (void)backtest::Amount::Div(p.cost, p.quantity, 10, backtest::Rounding::kHalfEven, &average);
      (void)average.ToDecimal(10, backtest::Rounding::kHalfEven, &entry);
      a.Sell(t.symbol, held, a.ToTick(t.symbol, Scaled(entry, 1020), true));
    }
  }

 private:
  // d x per_mille / 1000, exactly.
  static Decimal Scaled(Decimal d, std::int64_t per_mille) {
    backtest::Amount out;
    Decimal factor, result;
    (void)Decimal::FromParts(per_mille, 3, &factor);
    (void)backtest::Amount::Mul(backtest::Amount::FromDecimal(d), factor, &out);
    (void)out.ToDecimal(10, backtest::Rounding::kHalfEven, &result);
    return result;
  }
  std::int64_t day_ = -1;
  Decimal high_;
};

int main(int argc, char** argv) {
  if (argc < 3) return std::fprintf(stderr, "usage: %s STORE.db SYMBOL_ID\n", argv[0]), 2;
  const std::string db = argv[1];
  const auto symbol = static_cast<SymbolId>(std::atoi(argv[2]));
  auto bus = bus::MakeInProcessBus();
  auto gateway = gateway::Gateway::Start(*bus, {.open_store = [db] { return store::OpenStore(db, {.create = false}); }});
  if (!gateway.ok()) return std::fprintf(stderr, "%s\n", gateway.error().message.c_str()), 1;
  auto client = client::Client::Open({.client_id = 3, .bus = bus.get()});
  if (!client.ok()) return std::fprintf(stderr, "%s\n", client.error().message.c_str()), 1;

  BuyTheDip strategy;
  backtest::BacktestOptions options;
  options.initial_cash["USD"] = backtest::Amount::FromInt(10000);
  backtest::Backtester bt(strategy, options);
  auto stream = (*client)->RequestTrades({.symbols = {symbol}},
                                         {.on_trade = [&](const client::TradeEvent& e) { (void)bt.OnTrade(e.trade); }});
  if (!stream.ok()) return std::fprintf(stderr, "%s\n", stream.error().message.c_str()), 1;
  (void)(*stream)->Wait(std::chrono::minutes(30));
  auto r = bt.Finish();
  if (!r.ok()) return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 1;
  std::printf("%s\n", r->main().metrics.ToJson().c_str());
  return 0;
}
