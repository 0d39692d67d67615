// Backtesting against a virtual exchange that fills from replayed trades
// (DESIGN §8). Every rule is stated in docs/backtest.md; in short:
//  - Money is exact: quantities, cash, fees and PnL are Amounts (amount.hpp);
//    fees are rounded to the fee currency's precision (rules.hpp), nothing else.
//  - A cash balance per currency: buying XBTEUR spends EUR and adds XBT. Spot
//    rules: no margin, no shorts; an order that the balances cannot pay is
//    rejected (or, at fill time, cut to what they pay).
//  - Equity is valued in a base currency (default USD) at the last trade of each
//    conversion pair at that moment, through a path when no direct pair exists.
//  - Every execution model runs in the same pass over the data, each with its own
//    strategy instance and account; the report shows them side by side.
//  - An order sent while handling the event at time t reaches the exchange at
//    t + latency and can fill only on later trades, never on the one that prompted it.
// Pure and deterministic: the same events give the same results.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tickflow/backtest/amount.hpp"
#include "tickflow/backtest/rules.hpp"
#include "tickflow/core/market.hpp"
#include "tickflow/core/resolution.hpp"
#include "tickflow/core/result.hpp"

namespace tickflow::backtest {

enum class Side : std::uint8_t { kBuy, kSell };
enum class OrderType : std::uint8_t { kMarket, kLimit, kStopMarket, kStopLimit };
enum class TimeInForce : std::uint8_t {
  kGoodTillCancel,
  kImmediateOrCancel,  // what the first trade after arrival does not fill is cancelled
  kFillOrKill,         // all on the first trade after arrival, or nothing
};
enum class OrderStatus : std::uint8_t { kSent, kOpen, kFilled, kCancelled, kRejected };
enum class Reason : std::uint8_t {
  kNone,
  kInsufficientFunds,   // the balances cannot pay it (spot: no margin, no shorts)
  kBelowMinimum,        // quantity below the instrument's minimum order
  kOffLot,              // quantity not a whole number of lots
  kOffTick,             // a price not a whole number of ticks
  kNonPositive,         // quantity or price <= 0
  kMissingPrice,        // a limit or stop order without its price
  kPostOnlyWouldTake,   // post-only limit at or through the last trade price
  kUnknownSymbol,       // not a symbol of the backtest
  kNoMarketPrice,       // a market order before the symbol's first trade
  kTooLarge,            // notional above 1e15
  kCancelledByStrategy,
  kUnfilledRemainder,   // IOC remainder, or FOK that could not fill entirely
  kEndOfData,           // still open when the data ended
};
std::string_view ToString(Side s);
std::string_view ToString(OrderType t);
std::string_view ToString(TimeInForce t);
std::string_view ToString(OrderStatus s);
std::string_view ToString(Reason r);
using OrderId = std::uint64_t;

struct OrderRequest {
  SymbolId symbol = 0;
  Side side = Side::kBuy;
  OrderType type = OrderType::kMarket;
  Decimal quantity;  // base units, > 0, whole lots, >= the minimum order
  Decimal limit;     // kLimit, kStopLimit: whole ticks
  Decimal stop;      // kStopMarket, kStopLimit: the trigger price, whole ticks
  TimeInForce tif = TimeInForce::kGoodTillCancel;
  bool post_only = false;                // limit only: rejected if it would take
  std::optional<bool> fee_in_base;       // default: BacktestOptions::fee_in_base
};

struct Order {
  OrderId id = 0;
  OrderRequest request;
  OrderStatus status = OrderStatus::kSent;
  Reason reason = Reason::kNone;
  Amount filled;            // base units
  Amount filled_notional;   // quote units, at fill prices
  UnixNanos placed, arrives, closed;
  bool triggered = false;   // stop orders: the stop was reached
  std::string detail;       // a rejection's values ("quantity 0.00001 is below the minimum order 0.0001 of XBTUSD")
  Amount Remaining() const;
};

struct Fill {
  OrderId order = 0;
  SymbolId symbol = 0;
  Side side = Side::kBuy;
  UnixNanos time;
  Decimal price;
  Amount quantity;          // base units
  Amount fee;               // in fee_currency, rounded to its precision
  std::uint16_t fee_currency = 0;  // index into Results::currencies
  bool maker = false;
  Amount realized_pnl;      // quote units, from selling FIFO lots; fees excluded
};

struct OrderEvent {
  enum class Kind : std::uint8_t { kAccepted, kRejected, kTriggered, kPartiallyFilled, kFilled, kCancelled, kAmended };
  Kind kind = Kind::kAccepted;
  OrderId id = 0;
  SymbolId symbol = 0;
  UnixNanos time;
  Reason reason = Reason::kNone;  // kRejected, kCancelled
  std::string detail;             // kRejected: the values behind the reason
  std::optional<Fill> fill;       // kPartiallyFilled, kFilled
};
std::string_view ToString(OrderEvent::Kind k);

struct Position {
  Amount quantity;          // base units held through this symbol (>= 0)
  Amount cost;              // quote units paid for what is held (FIFO lots), fees excluded
  Amount realized_pnl;      // quote units, fees excluded
  Decimal last_price;
  double AveragePrice() const { return quantity.IsZero() ? 0 : cost.ToDouble() / quantity.ToDouble(); }
};

// A round trip on one symbol: from flat to flat (below the minimum order counts as flat).
struct RoundTrip {
  SymbolId symbol = 0;
  UnixNanos opened, closed;
  Amount quantity;                        // the sum of the trip's buy fills
  Amount bought_notional, sold_notional;  // quote units
  Amount sold_quantity;
  Amount fees_quote;                      // fees paid in the quote currency
  Amount pnl;                             // quote units: realized (FIFO) - fees (in quote terms)
  Amount pnl_base;                        // pnl in the base currency at the close's rate
  std::uint32_t fills = 0;
  Amount EntryPrice() const;  // volume-weighted, rounded half-even to 1e-12
  Amount ExitPrice() const;
};

struct Signal {
  SymbolId symbol = 0;
  UnixNanos time;
  Decimal price;
  std::string text;
};

struct EquityPoint {
  UnixNanos time;
  Amount equity;    // base currency
  Amount exposure;  // base currency: value of everything that is not the base currency's cash
};

struct Metrics {
  Amount initial_equity, final_equity, fees_paid;  // base currency (fees converted when paid)
  std::map<std::string, Amount> fees_by_currency;
  std::optional<double> total_return, cagr, sharpe, sortino, volatility, calmar;
  double max_drawdown = 0;
  std::optional<double> win_rate, profit_factor;
  std::optional<Amount> expectancy, average_win, average_loss;  // per round trip, quote units summed as-is
  double exposure = 0;  // time-weighted fraction of equity not in base-currency cash
  std::uint64_t fills = 0, orders = 0, rejected = 0, round_trips = 0, events = 0;
  UnixNanos first, last;
  std::string ToJson(int indent = 2) const;  // amounts as exact decimal strings, undefined as null
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
  virtual void OnOrder(Account&, const OrderEvent&) {}
  virtual void OnTimer(Account&, std::uint64_t /*tag*/) {}
  virtual void OnEnd(Account&) {}
};
using StrategyFactory = std::function<std::unique_ptr<Strategy>()>;

// The strategy's view of the virtual exchange and its account.
class Account {
 public:
  virtual ~Account() = default;
  // Always returns a new id; a rejected order gets an OnOrder(kRejected) with the reason.
  virtual OrderId Submit(const OrderRequest& request) = 0;
  OrderId Buy(SymbolId symbol, Decimal quantity, std::optional<Decimal> limit = std::nullopt);
  OrderId Sell(SymbolId symbol, Decimal quantity, std::optional<Decimal> limit = std::nullopt);
  // False if the order is unknown or no longer open. Takes effect after the latency.
  virtual bool Cancel(OrderId id) = 0;
  // New quantity and/or limit (after the latency). Keeps the queue place only when the
  // quantity goes down; a new limit price rests again behind the queue at that price.
  virtual bool Amend(OrderId id, std::optional<Decimal> quantity, std::optional<Decimal> limit) = 0;
  virtual void CancelAll(SymbolId symbol) = 0;
  virtual const Order* order(OrderId id) const = 0;
  virtual std::size_t open_orders(SymbolId symbol) const = 0;
  virtual const Position& position(SymbolId symbol) const = 0;
  virtual const Instrument& instrument(SymbolId symbol) const = 0;
  virtual Amount balance(std::string_view currency) const = 0;
  // The balance less what open orders hold (buys: quantity x price x (1 + taker fee)).
  virtual Amount available(std::string_view currency) const = 0;
  // All balances valued in the base currency at the latest rates (unknown rates count 0).
  virtual Amount equity() const = 0;
  virtual const std::string& base_currency() const = 0;
  // The most of the symbol's base currency a sell can offer now: what is available,
  // less the fee when fees are taken in the base currency, in whole lots.
  virtual Decimal SellableQuantity(SymbolId symbol) const = 0;
  // The largest whole-lot quantity whose value at `price` is at most `quote_amount`.
  virtual Decimal QuantityFor(SymbolId symbol, Amount quote_amount, Decimal price) const = 0;
  // `price` rounded to the symbol's tick, down or up.
  virtual Decimal ToTick(SymbolId symbol, Decimal price, bool up) const = 0;
  virtual UnixNanos now() const = 0;
  // OnTimer(tag) at event time `at` (before the first trade at or after it).
  virtual void SetTimer(UnixNanos at, std::uint64_t tag) = 0;
  // Marks a signal for the report (e.g. a model's detection).
  virtual void Signal(SymbolId symbol, Decimal price, std::string text) = 0;
};

struct BacktestOptions {
  // Initial balances by currency; the default: 100000 of the base currency.
  std::map<std::string, Amount> initial_cash;
  std::string base_currency = "USD";
  TimeResolution bar_resolution = TimeResolution::kOneDay;  // OnBar, equity points, the report
  const FeeSchedule* fees = nullptr;                        // nullptr: Kraken's
  const CurrencyTable* currencies = nullptr;                // nullptr: Kraken's
  bool fee_in_base = false;                                 // Kraken's fee-in-base (fcib) for every order
  // Models run side by side; the first is the headline. Empty: optimistic, conservative.
  std::vector<ExecutionModel> models;
  // Every symbol the stream carries. Missing ones get the default rules and "?" currencies.
  std::map<SymbolId, Instrument> instruments;
  // Symbols streamed only to value currencies; the strategy never sees them.
  std::vector<SymbolId> conversion_only;
};

std::vector<ExecutionModel> DefaultModels();

// One execution model's run (of one strategy configuration, in a sweep).
struct ModelRun {
  ExecutionModel model;
  std::string label;  // the configuration (RunSpec::label); empty for a plain backtest
  Metrics metrics;
  std::vector<Fill> fills;
  std::vector<Order> orders;          // every order, in id order, as it ended
  std::vector<RoundTrip> round_trips;
  std::vector<Signal> signals;
  std::vector<EquityPoint> equity;    // one point per bar period (and the final mark)
  std::map<std::string, Amount> balances;  // at the end
  std::uint64_t rounded_notionals = 0;     // fills whose price x quantity needed more than 18 digits
};

struct Results {
  std::vector<ModelRun> runs;                   // in BacktestOptions::models order
  std::vector<std::string> currencies;          // Fill::fee_currency indexes this
  std::map<SymbolId, std::vector<Bar>> bars;    // traded symbols, at the bar resolution
  std::vector<EquityPoint> benchmark;           // buy and hold, same points as runs[0].equity
  Metrics benchmark_metrics;
  // Per currency other than the base: the oldest rate any valuation used, in seconds.
  std::map<std::string, double> max_rate_age_seconds;
  std::map<std::string, std::vector<SymbolId>> conversion_paths;
  const ModelRun& main() const { return runs.front(); }
};

// Feeds events to the strategies through the virtual exchange. Call OnTrade for
// every trade in time order (from a client stream), then Finish once.
// One run: a strategy (configuration) under an execution model.
struct RunSpec {
  std::string label;  // e.g. "fast=10 slow=50"
  StrategyFactory make;
  ExecutionModel model;
};

class Backtester {
 public:
  // One strategy per execution model, each from the factory.
  Backtester(StrategyFactory factory, BacktestOptions options);
  // Any runs side by side (a sweep); BacktestOptions::models is ignored.
  Backtester(std::vector<RunSpec> runs, BacktestOptions options);
  // One strategy: only the first execution model runs.
  Backtester(Strategy& strategy, BacktestOptions options);
  ~Backtester();
  // Errors: trades out of time order, amounts beyond Amount's range.
  Status OnTrade(const Trade& trade);
  // The same for consecutive trades; the per-trade path then runs without a
  // call and a Status each (ThreadedBacktester hands over its queue this way).
  Status OnTrades(std::span<const Trade> trades);
  Result<Results> Finish();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Metrics of an equity curve and its trips (also used for the benchmark).
Metrics ComputeMetrics(const std::vector<EquityPoint>& equity, const std::vector<RoundTrip>& trips,
                       std::uint64_t events);

}  // namespace tickflow::backtest
