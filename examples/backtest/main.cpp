// backtest: a custom strategy in a few dozen lines. Buys the dip: when a trade
// prints 3 % below the day's high, buy with half the cash at a limit 0.5 %
// under it; take profit with a limit 2 % above the entry.
//
//   backtest STORE.db SYMBOL_ID
#include <cstdio>
#include <cstdlib>

#include "tickflow/backtest/backtest.hpp"
#include "tickflow/client/client.hpp"
#include "tickflow/gateway/gateway.hpp"

using namespace tickflow;  // NOLINT: an example's only namespace

class BuyTheDip final : public backtest::Strategy {
 public:
  std::string name() const override { return "buy-the-dip"; }
  void OnTrade(backtest::Account& a, const Trade& t) override {
    const std::int64_t day = t.time.ns / kNanosPerDay;
    if (day != day_) day_ = day, high_ = 0;
    const double price = t.price.ToDouble();
    high_ = std::max(high_, price);
    const backtest::Position& pos = a.position(t.symbol);
    if (pos.quantity == 0 && a.open_orders(t.symbol) == 0 && price < high_ * 0.97) {
      a.Buy(t.symbol, 0.5 * a.cash() / price, Limit(price * 0.995));
    } else if (pos.quantity > 0 && a.open_orders(t.symbol) == 0) {
      a.Sell(t.symbol, pos.quantity, Limit(pos.average_price * 1.02));
    }
  }

 private:
  static Decimal Limit(double price) {
    Decimal d;
    (void)Decimal::FromParts(static_cast<std::int64_t>(price * 100), 2, &d);
    return d;
  }
  std::int64_t day_ = -1;
  double high_ = 0;
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
  backtest::Backtester bt(strategy, {.initial_cash = 10000});
  auto stream = (*client)->RequestTrades({.symbols = {symbol}},
                                         {.on_trade = [&](const client::TradeEvent& e) { (void)bt.OnTrade(e.trade); }});
  if (!stream.ok()) return std::fprintf(stderr, "%s\n", stream.error().message.c_str()), 1;
  (void)(*stream)->Wait(std::chrono::minutes(30));
  const backtest::Results r = bt.Finish();
  std::printf("%s", r.metrics.ToJson().c_str());
  return 0;
}
