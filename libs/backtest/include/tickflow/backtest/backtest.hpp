// Backtesting against a virtual exchange that fills from replayed trades
// (DESIGN §8). Rules (docs/backtest.md):
//  - An order placed while handling an event at time t can fill only on later
//    trades of its symbol: a strategy never trades on the trade it just saw.
//  - Market order: fills at each following trade's price, taker fee, at most
//    that trade's volume per trade (partial fills) until done.
//  - Limit buy (sell): fills at its limit price on a following trade whose price
//    is at or below (at or above) the limit, maker fee, at most that trade's
//    volume per trade; the rest keeps resting until filled or cancelled.
//  - Fees: Kraken's maker/taker schedule by the account's traded notional over
//    the 30 days before the fill (fees.hpp, data/fees/kraken_spot.csv).
//  - No margin model: a strategy sizes its orders; cash may go negative.
// Pure and deterministic: the same events give the same results.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tickflow/core/market.hpp"
#include "tickflow/core/resolution.hpp"
#include "tickflow/core/result.hpp"

namespace tickflow::backtest {

// Fee tiers by 30-day volume.
class FeeSchedule {
 public:
  struct Tier {
    double min_volume = 0;  // in quote currency
    double maker = 0;       // fraction: 0.0025 = 0.25 %
    double taker = 0;
  };
  // Lines "min_volume,maker_percent,taker_percent"; '#' comments. Errors name the line.
  static Result<FeeSchedule> Parse(std::string_view text);
  // Kraken's spot schedule (data/fees/kraken_spot.csv, built in).
  static const FeeSchedule& Kraken();
  const Tier& TierFor(double volume_30d) const;
  const std::vector<Tier>& tiers() const { return tiers_; }

 private:
  std::vector<Tier> tiers_;
};

enum class Side : std::uint8_t { kBuy, kSell };
enum class OrderType : std::uint8_t { kMarket, kLimit };
using OrderId = std::uint64_t;

struct Order {
  OrderId id = 0;
  SymbolId symbol = 0;
  Side side = Side::kBuy;
  OrderType type = OrderType::kMarket;
  double quantity = 0;   // base units, > 0
  Decimal limit;         // limit orders
  double filled = 0;
  UnixNanos placed;
};

struct Fill {
  OrderId order = 0;
  SymbolId symbol = 0;
  Side side = Side::kBuy;
  UnixNanos time;
  Decimal price;
  double quantity = 0;
  double fee = 0;        // quote currency
  bool maker = false;
  double realized_pnl = 0;  // from reducing a position, fees excluded
};

struct Position {
  double quantity = 0;   // signed
  double average_price = 0;
  double realized_pnl = 0;
  Decimal last_price;
};

// A closed round trip (flat -> position -> flat), for win rate and the report.
struct RoundTrip {
  SymbolId symbol = 0;
  UnixNanos opened, closed;
  double quantity = 0;
  double entry_price = 0, exit_price = 0;
  double pnl = 0;  // realized, fees included
};

struct Signal {
  SymbolId symbol = 0;
  UnixNanos time;
  Decimal price;
  std::string text;
};

struct EquityPoint {
  UnixNanos time;
  double equity = 0;
};

struct Metrics {
  double initial_equity = 0, final_equity = 0;
  double total_return = 0, cagr = 0, sharpe = 0, sortino = 0, max_drawdown = 0;
  double win_rate = 0, fees_paid = 0, exposure = 0;
  std::uint64_t fills = 0, round_trips = 0, events = 0;
  UnixNanos first, last;
  std::string ToJson() const;
};

class Account;

// What a strategy implements. Callbacks see only data up to the event.
class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  virtual void OnStart(Account&) {}
  virtual void OnTrade(Account&, const Trade&) {}
  // Bars at the backtest's resolution, built from the trades; delivered when complete.
  virtual void OnBar(Account&, SymbolId, const Bar&) {}
  virtual void OnEnd(Account&) {}
};

struct BacktestOptions {
  double initial_cash = 100000;
  TimeResolution bar_resolution = TimeResolution::kOneDay;  // OnBar and the report's candles
  const FeeSchedule* fees = nullptr;                        // nullptr: Kraken's
};

// The strategy's view of the virtual exchange and its account.
class Account {
 public:
  virtual ~Account() = default;
  virtual OrderId Buy(SymbolId symbol, double quantity, std::optional<Decimal> limit = std::nullopt) = 0;
  virtual OrderId Sell(SymbolId symbol, double quantity, std::optional<Decimal> limit = std::nullopt) = 0;
  virtual bool Cancel(OrderId id) = 0;
  virtual void CancelAll(SymbolId symbol) = 0;
  virtual const Position& position(SymbolId symbol) const = 0;
  virtual double cash() const = 0;
  virtual double equity() const = 0;
  virtual UnixNanos now() const = 0;
  virtual std::size_t open_orders(SymbolId symbol) const = 0;
  // Marks a signal for the report (e.g. a model's detection).
  virtual void Signal(SymbolId symbol, Decimal price, std::string text) = 0;
};

struct Results {
  Metrics metrics;
  std::vector<Fill> fills;
  std::vector<RoundTrip> round_trips;
  std::vector<Signal> signals;
  std::vector<EquityPoint> equity;              // one point per bar period
  std::map<SymbolId, std::vector<Bar>> bars;    // at the bar resolution
};

// Feeds events to a strategy through the virtual exchange. Call OnTrade for
// every trade in time order (from a client stream), then Finish.
class Backtester {
 public:
  Backtester(Strategy& strategy, BacktestOptions options);
  ~Backtester();
  Status OnTrade(const Trade& trade);
  Results Finish();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

Metrics ComputeMetrics(const std::vector<EquityPoint>& equity, const std::vector<RoundTrip>& trips,
                       const std::vector<Fill>& fills, double exposure, std::uint64_t events);

// A self-contained HTML page (no network needed): candlesticks with fills and
// signals, the equity curve, the drawdown, a table of round trips.
std::string HtmlReport(const Results& results, const std::string& title,
                       const std::map<SymbolId, std::string>& symbol_names);

}  // namespace tickflow::backtest
