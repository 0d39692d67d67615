// The virtual exchange. Layout: Impl holds what every execution model shares
// (the market as seen from the trades: last prices, aggressor side, recent
// volume at each price, a spread estimate, bars, conversion rates); each Run is
// one model's world (its strategy, account, orders, fills). Rules: docs/backtest.md.
#include <algorithm>
#include <deque>
#include <queue>
#include <set>
#include <span>
#include <tuple>
#include <utility>

#include "tickflow/backtest/backtest.hpp"
#include "tickflow/bars/resampler.hpp"
#include "tickflow/core/check.hpp"

namespace tickflow::backtest {
namespace {

constexpr std::int64_t kQueueWindowNs = 5 * 60 * kNanosPerSecond;  // volume at a price "recently" (queue estimate)
constexpr std::size_t kMaxRecentTrades = 65536;                    // per symbol, whatever the window holds
constexpr std::size_t kBounceWindow = 64;                          // price changes in the spread estimate
constexpr std::size_t kMaxEventsPerCallback = 100000;              // a strategy that loops on its own events
constexpr std::uint64_t kLatencySeed = 0x7469636b666c6f77ULL;      // "tickflow"
const Amount kMaxNotional = Amount::FromInt(1'000'000'000'000'000);  // 1e15

// Latency draws are seeded by the model's name: the same model draws the same
// latencies whatever else runs beside it (a sweep's configuration equals its backtest).
std::uint64_t LatencySeed(const std::string& name) {
  std::uint64_t h = kLatencySeed;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

std::uint64_t SplitMix(std::uint64_t* state) {
  std::uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct RecentTrade {
  std::int64_t time;
  Decimal price, volume;
};

// Shared, per symbol.
struct Market {
  Instrument instrument;
  std::uint16_t base = 0, quote = 0;  // currency indexes
  bool conversion_only = false;
  bool traded = false;
  Decimal first_price, last_price;
  UnixNanos last_time;
  int aggressor = 0;  // of the current trade: +1 buy-initiated, -1 sell-initiated, 0 unknown (first trade)
  std::deque<RecentTrade> recent;
  std::array<Amount, kBounceWindow> bounces{};
  std::size_t bounce_count = 0, bounce_next = 0;
  Amount bounce_sum;
  std::optional<bars::Resampler> resampler;
  // Buy and hold: base units bought at the first trade.
  bool benchmark_bought = false;
  Amount benchmark_units;
};

struct Hop {
  std::size_t market;  // index into markets_
  bool invert;         // the currency is the pair's quote: divide by the price
};

struct Lot {
  Amount quantity;
  Decimal price;
};

}  // namespace

Amount Order::Remaining() const {
  Amount r;
  (void)Amount::Sub(Amount::FromDecimal(request.quantity), filled, &r);
  return r;
}

namespace {
Amount VolumeWeighted(Amount notional, Amount quantity) {
  Amount out;
  if (quantity.IsZero() || !Amount::Div(notional, quantity, 12, Rounding::kHalfEven, &out)) return Amount();
  return out;
}
}  // namespace
Amount RoundTrip::EntryPrice() const { return VolumeWeighted(bought_notional, quantity); }
Amount RoundTrip::ExitPrice() const { return VolumeWeighted(sold_notional, sold_quantity); }

OrderId Account::Buy(SymbolId symbol, Decimal quantity, std::optional<Decimal> limit) {
  OrderRequest r;
  r.symbol = symbol;
  r.side = Side::kBuy;
  r.quantity = quantity;
  if (limit) r.type = OrderType::kLimit, r.limit = *limit;
  return Submit(r);
}

OrderId Account::Sell(SymbolId symbol, Decimal quantity, std::optional<Decimal> limit) {
  OrderRequest r;
  r.symbol = symbol;
  r.side = Side::kSell;
  r.quantity = quantity;
  if (limit) r.type = OrderType::kLimit, r.limit = *limit;
  return Submit(r);
}

std::vector<ExecutionModel> DefaultModels() {
  return {ExecutionModel{"optimistic", FillRule::kTouch, {}}, ExecutionModel{"conservative", FillRule::kConservative, {}}};
}

class Backtester::Impl {
 public:
  class Run;

  Impl(BacktestOptions options)
      : options_(std::move(options)),
        fees_(options_.fees ? *options_.fees : FeeSchedule::Kraken()),
        currency_table_(options_.currencies ? *options_.currencies : CurrencyTable::Kraken()),
        market_index_(-1) {
    if (options_.models.empty()) options_.models = DefaultModels();
    if (options_.initial_cash.empty()) options_.initial_cash[options_.base_currency] = Amount::FromInt(100000);
    CurrencyIndex(options_.base_currency);
    usd_ = CurrencyIndex("USD");
    for (const auto& [c, a] : options_.initial_cash) CurrencyIndex(c);
    for (const auto& [id, in] : options_.instruments) AddMarket(id, in);
    for (SymbolId id : options_.conversion_only) {
      if (market_index_[id] < 0) AddMarket(id, DefaultInstrument(id));
      markets_[static_cast<std::size_t>(market_index_[id])].conversion_only = true;
    }
    for (Market& m : markets_) {
      if (!m.conversion_only) m.resampler.emplace(options_.bar_resolution);
    }
    ComputePaths();
  }

  void AddRun(std::unique_ptr<Strategy> owned, Strategy* strategy, const ExecutionModel& model);
  void SetLabel(std::size_t run, const std::string& label);
  Status OnTrades(std::span<const Trade> trades);
  bool Step(const Trade& t);
  Result<Results> Finish();

  // Shared state the runs read ---------------------------------------------------
  std::uint16_t CurrencyIndex(const std::string& c) {
    auto it = currency_ids_.find(c);
    if (it != currency_ids_.end()) return it->second;
    const auto id = static_cast<std::uint16_t>(currencies_.size());
    currencies_.push_back(c);
    currency_ids_.emplace(c, id);
    currency_decimals_.push_back(currency_table_.DecimalsOf(c));
    return id;
  }
  std::optional<std::uint16_t> FindCurrency(std::string_view c) const {
    auto it = currency_ids_.find(c);
    if (it == currency_ids_.end()) return std::nullopt;
    return it->second;
  }
  Market* MarketOf(SymbolId s) {
    const int i = market_index_[s];
    return i < 0 ? nullptr : &markets_[static_cast<std::size_t>(i)];
  }
  const Market* MarketOf(SymbolId s) const {
    const int i = market_index_[s];
    return i < 0 ? nullptr : &markets_[static_cast<std::size_t>(i)];
  }

  // The value of `amount` of currency `c` in the target currency (0: base, 1: USD)
  // at the latest rates; false if a pair on the path has not traded yet.
  bool Value(Amount amount, std::uint16_t c, int target, Amount* out, std::int64_t* oldest_ns = nullptr) const {
    if (amount.IsZero() || c == TargetCurrency(target)) {
      *out = amount;
      return true;
    }
    const auto& paths = target == 0 ? paths_to_base_ : paths_to_usd_;
    if (c >= paths.size() || !paths[c]) return false;
    Amount v = amount;
    for (const Hop& h : *paths[c]) {
      const Market& m = markets_[h.market];
      if (!m.traded) return false;
      if (oldest_ns != nullptr) *oldest_ns = std::min(*oldest_ns, m.last_time.ns);
      const bool ok = h.invert ? Amount::Div(v, Amount::FromDecimal(m.last_price), Amount::kScale, Rounding::kHalfEven, &v)
                               : Amount::Mul(v, m.last_price, &v);
      if (!ok) return Overflow();
    }
    *out = v;
    return true;
  }
  std::uint16_t TargetCurrency(int target) const { return target == 0 ? 0 : usd_; }
  bool Overflow() const {
    overflow_ = true;
    return false;
  }
  void NoteOverflow() const { overflow_ = true; }

  const BacktestOptions& options() const { return options_; }
  const FeeSchedule& fees() const { return fees_; }
  int DecimalsOf(std::uint16_t c) const { return currency_decimals_[c]; }
  const std::string& CurrencyName(std::uint16_t c) const { return currencies_[c]; }
  std::size_t currency_count() const { return currencies_.size(); }
  std::size_t symbol_slots() const { return symbol_slots_; }
  std::uint64_t sequence() const { return sequence_; }
  // Volume traded at exactly `price` in the queue window before now.
  Amount RecentVolumeAt(const Market& m, Decimal price) const {
    Amount sum;
    for (const RecentTrade& r : m.recent) {
      if (r.price == price && !Amount::Add(sum, Amount::FromDecimal(r.volume), &sum)) break;
    }
    return sum;
  }
  // Half the mean size of recent bid-ask bounces (price changes that flip the aggressor side).
  Amount Slippage(const Market& m) const {
    Amount s;
    if (m.bounce_count == 0) return s;
    if (!Amount::Div(m.bounce_sum, Amount::FromInt(static_cast<std::int64_t>(2 * m.bounce_count)), Amount::kScale,
                     Rounding::kHalfEven, &s)) {
      return Amount();
    }
    return s;
  }
  void RecordRateAge(std::uint16_t c, std::int64_t age_ns) {
    if (c == 0) return;
    double& slot = rate_age_[c];
    slot = std::max(slot, static_cast<double>(age_ns) / 1e9);
  }

 private:
  Instrument DefaultInstrument(SymbolId id) const {
    Instrument in;
    in.symbol = "symbol " + std::to_string(id);
    in.base = "S" + std::to_string(id);
    in.quote = options_.base_currency;
    (void)Decimal::FromParts(1, 10, &in.tick_size);
    (void)Decimal::FromParts(1, 8, &in.lot_size);
    in.min_order = in.lot_size;
    return in;
  }
  void AddMarket(SymbolId id, const Instrument& in) {
    if (market_index_[id] >= 0) return;
    Market m;
    m.instrument = in;
    m.base = CurrencyIndex(in.base);
    m.quote = CurrencyIndex(in.quote);
    market_index_[id] = static_cast<int>(markets_.size());
    symbol_slots_ = std::max(symbol_slots_, std::size_t{id} + 1);
    market_ids_.push_back(id);
    markets_.push_back(std::move(m));
  }
  // Shortest conversion paths (fewest pairs) from every currency to the base and to USD.
  void ComputePaths() {
    const auto bfs = [&](std::uint16_t target, std::vector<std::optional<std::vector<Hop>>>* out) {
      out->assign(currencies_.size(), std::nullopt);
      (*out)[target] = std::vector<Hop>{};
      std::deque<std::uint16_t> queue{target};
      while (!queue.empty()) {
        const std::uint16_t c = queue.front();
        queue.pop_front();
        for (std::size_t i = 0; i < markets_.size(); ++i) {
          const Market& m = markets_[i];
          // From the other currency of a pair that involves c, one hop reaches c.
          std::uint16_t from;
          bool invert;
          if (m.quote == c) from = m.base, invert = false;   // base -> quote: multiply by the price
          else if (m.base == c) from = m.quote, invert = true;  // quote -> base: divide
          else continue;
          if ((*out)[from]) continue;
          std::vector<Hop> path{Hop{i, invert}};
          path.insert(path.end(), (*out)[c]->begin(), (*out)[c]->end());
          (*out)[from] = std::move(path);
          queue.push_back(from);
        }
      }
    };
    bfs(0, &paths_to_base_);
    bfs(usd_, &paths_to_usd_);
  }

  BacktestOptions options_;
  const FeeSchedule& fees_;
  const CurrencyTable& currency_table_;
  std::vector<std::string> currencies_;
  std::map<std::string, std::uint16_t, std::less<>> currency_ids_;
  std::vector<int> currency_decimals_;
  std::vector<Market> markets_;
  std::vector<SymbolId> market_ids_;
  SymbolTable<int> market_index_;  // index into markets_, -1: none
  std::size_t symbol_slots_ = 0;  // 1 + the largest market id
  std::vector<std::optional<std::vector<Hop>>> paths_to_base_, paths_to_usd_;
  std::vector<std::unique_ptr<Run>> runs_;
  std::map<std::uint16_t, double> rate_age_;
  std::map<SymbolId, std::vector<Bar>> bars_;
  std::vector<EquityPoint> benchmark_;
  std::optional<Amount> benchmark_cash_per_symbol_;  // base currency, set at the first valued point
  std::size_t benchmark_symbols_ = 0;
  UnixNanos now_{0}, next_period_{UnixNanos::Min()};  // Min: the first trade starts the runs
  bool conservative_ = false;  // some model needs the aggressor, queue and spread estimates
  std::uint16_t usd_ = 0;
  bool started_ = false, finished_ = false;
  bool failed_ = false;  // a run recorded a failure (Run::failure_)
  mutable bool overflow_ = false;
  std::uint64_t events_ = 0, sequence_ = 0;
  Status error_;  // Step's error, handed out by OnTrades
  Bar done_bar_;  // a bar the resampler finished (a member: not re-initialised per trade)
  Status failure_;

  void CloseBar(SymbolId symbol, const Bar& bar);
  void RecordBenchmark(UnixNanos time);
  void UpdateMarket(Market& m, const Trade& t, int previous_aggressor);
  friend class Run;
};

// One execution model's account, orders and strategy.
class Backtester::Impl::Run final : public Account {
 public:
  Run(Impl& impl, std::unique_ptr<Strategy> owned, Strategy* strategy, ExecutionModel model)
      : impl_(impl), owned_(std::move(owned)), strategy_(strategy), model_(std::move(model)),
        rng_(LatencySeed(model_.name)) {
    Grow(impl_.symbol_slots());
    out_.model = model_;
  }

  // Account ---------------------------------------------------------------------
  OrderId Submit(const OrderRequest& request) override {
    Order o;
    o.id = orders_.size() + 1;
    o.request = request;
    o.placed = now_;
    o.arrives = now_ + std::chrono::nanoseconds(DrawLatency());
    orders_.push_back(o);
    ++out_.metrics.orders;
    Order& stored = orders_.back();
    const Reason reason = Validate(request, &stored.detail);
    if (reason != Reason::kNone) {
      Close(stored, OrderStatus::kRejected, reason);
      Queue(OrderEvent::Kind::kRejected, stored, reason);
      ++out_.metrics.rejected;
      return stored.id;
    }
    open_[request.symbol].push_back(stored.id);
    open_ids_.insert(stored.id);
    Queue(OrderEvent::Kind::kAccepted, stored, Reason::kNone);
    return stored.id;
  }
  bool Cancel(OrderId id) override {
    Order* o = Find(id);
    if (o == nullptr || !IsOpen(*o)) return false;
    pending_.push_back(Pending{id, now_ + std::chrono::nanoseconds(DrawLatency()), true, std::nullopt, std::nullopt});
    if (model_.latency.IsZero()) ApplyPending(now_);  // no latency: it reaches the exchange now
    return true;
  }
  bool Amend(OrderId id, std::optional<Decimal> quantity, std::optional<Decimal> limit) override {
    Order* o = Find(id);
    if (o == nullptr || !IsOpen(*o)) return false;
    if (limit && o->request.type != OrderType::kLimit && o->request.type != OrderType::kStopLimit) return false;
    pending_.push_back(Pending{id, now_ + std::chrono::nanoseconds(DrawLatency()), false, quantity, limit});
    if (model_.latency.IsZero()) ApplyPending(now_);
    return true;
  }
  void CancelAll(SymbolId symbol) override {
    if (symbol >= open_.size()) return;
    const std::vector<OrderId> ids = open_[symbol];  // a copy: cancels edit the list
    for (OrderId id : ids) Cancel(id);
  }
  const Order* order(OrderId id) const override {
    return id == 0 || id > orders_.size() ? nullptr : &orders_[id - 1];
  }
  std::size_t open_orders(SymbolId symbol) const override { return symbol < open_.size() ? open_[symbol].size() : 0; }
  const Position& position(SymbolId symbol) const override {
    static const Position kFlat;
    return symbol < positions_.size() ? positions_[symbol] : kFlat;
  }
  // Per-symbol slots for ids below n (the markets' ids; they grow as symbols appear).
  void Grow(std::size_t n) {
    if (positions_.size() < n) positions_.resize(n);
    if (open_.size() < n) open_.resize(n);
  }
  const Instrument& instrument(SymbolId symbol) const override {
    static const Instrument kUnknown;
    const Market* m = impl_.MarketOf(symbol);
    return m == nullptr ? kUnknown : m->instrument;
  }
  Amount balance(std::string_view currency) const override {
    auto c = impl_.FindCurrency(currency);
    return c && *c < balances_.size() ? balances_[*c] : Amount();
  }
  Amount available(std::string_view currency) const override {
    auto c = impl_.FindCurrency(currency);
    if (!c || *c >= balances_.size()) return Amount();
    Amount a = balances_[*c];
    (void)Amount::Sub(a, Reserved(*c), &a);
    return a;
  }
  Amount equity() const override {
    Amount e;
    for (std::size_t c = 0; c < balances_.size(); ++c) {
      Amount v;
      if (impl_.Value(balances_[c], static_cast<std::uint16_t>(c), 0, &v)) (void)Amount::Add(e, v, &e);
    }
    return e;
  }
  const std::string& base_currency() const override { return impl_.options().base_currency; }
  Decimal QuantityFor(SymbolId symbol, Amount quote_amount, Decimal price) const override {
    const Market* m = impl_.MarketOf(symbol);
    Amount q;
    Decimal out;
    if (m == nullptr || !(price > Decimal()) || quote_amount <= Amount() ||
        !Amount::Div(quote_amount, Amount::FromDecimal(price), Amount::kScale, Rounding::kFloor, &q)) {
      return Decimal();
    }
    const Int128 lot = Amount::FromDecimal(m->instrument.lot_size).units();
    q = Amount::FromUnits(q.units() - q.units() % lot);
    if (!q.ToDecimal(m->instrument.lot_size.scale(), Rounding::kFloor, &out)) return Decimal();
    return out;
  }
  Decimal SellableQuantity(SymbolId symbol) const override {
    const Market* m = impl_.MarketOf(symbol);
    if (m == nullptr) return Decimal();
    Amount q = available(impl_.CurrencyName(m->base));
    if (impl_.options().fee_in_base) {
      Amount one_plus = Amount::FromInt(1);
      (void)Amount::Add(one_plus, Amount::FromDecimal(TakerRate()), &one_plus);
      if (!Amount::Div(q, one_plus, Amount::kScale, Rounding::kFloor, &q)) return Decimal();
    }
    const Int128 lot = Amount::FromDecimal(m->instrument.lot_size).units();
    Decimal out;
    if (q <= Amount() || !Amount::FromUnits(q.units() - q.units() % lot).ToDecimal(m->instrument.lot_size.scale(), Rounding::kFloor, &out)) {
      return Decimal();
    }
    return out;
  }
  Decimal ToTick(SymbolId symbol, Decimal price, bool up) const override {
    const Market* m = impl_.MarketOf(symbol);
    if (m == nullptr) return price;
    return RoundToTick(*m, Amount::FromDecimal(price), up);
  }
  UnixNanos now() const override { return now_; }
  void SetTimer(UnixNanos at, std::uint64_t tag) override { timers_.push(Timer{std::max(at, now_), timer_seq_++, tag}); }
  void Signal(SymbolId symbol, Decimal price, std::string text) override {
    out_.signals.push_back(backtest::Signal{symbol, now_, price, std::move(text)});
  }

  // Driving (called by Impl) -------------------------------------------------------
  void Start(UnixNanos t) {
    now_ = t;
    balances_.assign(impl_.currency_count(), Amount());
    for (const auto& [c, a] : impl_.options().initial_cash) balances_[impl_.CurrencyIndex(c)] = a;
    strategy_->OnStart(*this);
    Deliver();
  }
  void FireTimers(UnixNanos until) {
    if (timers_.empty() || timers_.top().at > until) return;  // the common case, inline
    FireDueTimers(until);
  }
  void FireDueTimers(UnixNanos until) {
    while (!timers_.empty() && timers_.top().at <= until) {
      const Timer t = timers_.top();
      timers_.pop();
      now_ = t.at;
      strategy_->OnTimer(*this, t.tag);
      Deliver();
    }
  }
  // Orders against one trade (before the strategy sees it).
  void BeforeTrade(const Trade& t, Market& m) {
    now_ = t.time;
    if (t.symbol >= positions_.size() || balances_.size() < impl_.currency_count()) [[unlikely]] {
      balances_.resize(std::max(balances_.size(), impl_.currency_count()));
      Grow(std::size_t{t.symbol} + 1);
    }
    if (!pending_.empty()) ApplyPending(t.time);
    if (!open_[t.symbol].empty()) Match(t, m);
    if (!events_.empty()) Deliver();
    positions_[t.symbol].last_price = t.price;  // what the strategy sees: this trade's price (after matching)
  }
  void AfterBar(SymbolId symbol, const Bar& bar) {
    strategy_->OnBar(*this, symbol, bar);
    Deliver();
  }
  void OnTrade(const Trade& t) {
    strategy_->OnTrade(*this, t);
    if (!events_.empty()) Deliver();
  }
  void RecordEquity(UnixNanos time) {
    EquityPoint p{time, Amount(), Amount()};
    std::int64_t oldest = time.ns;
    for (std::size_t c = 0; c < balances_.size(); ++c) {
      if (balances_[c].IsZero()) continue;
      Amount v;
      std::int64_t path_oldest = time.ns;
      if (!impl_.Value(balances_[c], static_cast<std::uint16_t>(c), 0, &v, &path_oldest)) return;  // not valued yet
      impl_.RecordRateAge(static_cast<std::uint16_t>(c), time.ns - path_oldest);
      oldest = std::min(oldest, path_oldest);
      if (!Amount::Add(p.equity, v, &p.equity)) return impl_.NoteOverflow();
      if (c != 0 && !Amount::Add(p.exposure, v, &p.exposure)) return impl_.NoteOverflow();
    }
    if (!out_.equity.empty() && out_.equity.back().time == time) {
      out_.equity.back() = p;  // several symbols close the same period
    } else {
      out_.equity.push_back(p);
    }
  }
  void End(UnixNanos t) {
    now_ = t;
    strategy_->OnEnd(*this);
    Deliver();
    while (!open_ids_.empty()) Close(orders_[*open_ids_.begin() - 1], OrderStatus::kCancelled, Reason::kEndOfData);
  }
  ModelRun Take(std::uint64_t events) {
    out_.orders = std::move(orders_);
    for (std::size_t c = 0; c < balances_.size(); ++c) {
      if (!balances_[c].IsZero()) out_.balances[impl_.CurrencyName(static_cast<std::uint16_t>(c))] = balances_[c];
    }
    const std::uint64_t orders = out_.metrics.orders, rejected = out_.metrics.rejected;
    const Amount fees = out_.metrics.fees_paid;
    auto by_currency = std::move(out_.metrics.fees_by_currency);
    out_.metrics = ComputeMetrics(out_.equity, out_.round_trips, events);
    out_.metrics.fills = out_.fills.size();
    out_.metrics.orders = orders;
    out_.metrics.rejected = rejected;
    out_.metrics.fees_paid = fees;
    out_.metrics.fees_by_currency = std::move(by_currency);
    return std::move(out_);
  }
  bool has_events() const { return !events_.empty(); }
  const Status& failure() const { return failure_; }

 private:
  struct Timer {
    UnixNanos at;
    std::uint64_t seq, tag;
    bool operator<(const Timer& o) const { return at != o.at ? at > o.at : seq > o.seq; }  // min-heap
  };
  struct Pending {
    OrderId id;
    UnixNanos at;
    bool cancel;
    std::optional<Decimal> quantity, limit;
  };
  // Per open order, what the model tracks besides the Order.
  struct Book {
    bool arrived = false;
    bool first_trade_done = false;  // IOC/FOK: their one chance; limits: the taking phase
    bool taking = false;            // a limit marketable on arrival takes until it rests
    bool trigger_seen = false;      // stop: triggered on an earlier trade
    Amount queue_ahead;
  };

  static bool IsOpen(const Order& o) { return o.status == OrderStatus::kSent || o.status == OrderStatus::kOpen; }
  Order* Find(OrderId id) { return id == 0 || id > orders_.size() ? nullptr : &orders_[id - 1]; }
  Book& BookOf(OrderId id) {
    if (books_.size() < orders_.size()) books_.resize(orders_.size());
    return books_[id - 1];
  }

  std::int64_t DrawLatency() {
    const Latency& l = model_.latency;
    std::int64_t ns = l.market_data.count();
    if (!l.samples_ns.empty()) {
      ns += l.samples_ns[SplitMix(&rng_) % l.samples_ns.size()];
    } else {
      ns += l.order_entry.count();
    }
    return ns;
  }

  static Decimal RoundToTick(const Market& m, Amount price, bool up) {
    const Int128 tick = Amount::FromDecimal(m.instrument.tick_size).units();
    const Amount p = Amount::FromUnits(DivRound(price.units(), tick, up ? Rounding::kCeiling : Rounding::kFloor) * tick);
    Decimal out;
    if (!p.ToDecimal(m.instrument.tick_size.scale(), Rounding::kHalfEven, &out)) return Decimal();
    return out;
  }

  Decimal TakerRate() const {
    return impl_.fees().TierFor(now_, window_sum_).taker;
  }

  // What open orders hold of currency c.
  Amount Reserved(std::uint16_t c) const {
    Amount total;
    for (OrderId id : open_ids_) {
      const Order& o = orders_[id - 1];
      const Market* m = impl_.MarketOf(o.request.symbol);
      if (m == nullptr) continue;
      Amount need;
      if (!Need(o.request, *m, o.Remaining(), &need)) continue;
      const std::uint16_t cur = o.request.side == Side::kBuy ? m->quote : m->base;
      if (cur == c) (void)Amount::Add(total, need, &total);
    }
    return total;
  }
  bool FeeInBase(const OrderRequest& r) const { return r.fee_in_base.value_or(impl_.options().fee_in_base); }
  // Funds an order of `qty` needs: buys in the quote currency (at its limit, stop or
  // the last price, plus the taker fee if the fee is in the quote), sells in the base.
  bool Need(const OrderRequest& r, const Market& m, Amount qty, Amount* need) const {
    Amount fee_factor = Amount::FromInt(1);
    if (!Amount::Add(fee_factor, Amount::FromDecimal(TakerRate()), &fee_factor)) return false;
    if (r.side == Side::kSell) {
      if (!FeeInBase(r)) return (*need = qty), true;
      return Amount::Mul(qty, fee_factor, need);
    }
    Decimal ref = r.type == OrderType::kLimit || r.type == OrderType::kStopLimit ? r.limit
                  : r.type == OrderType::kStopMarket                            ? r.stop
                                                                                : m.last_price;
    if (r.type == OrderType::kStopMarket && m.traded && m.last_price > ref) ref = m.last_price;
    Amount notional;
    if (!Amount::Mul(qty, ref, &notional)) return false;
    if (FeeInBase(r)) return (*need = notional), true;
    return Amount::Mul(notional, fee_factor, need);
  }

  // Why an order cannot be accepted (kNone if it can); *detail names the values.
  Reason Validate(const OrderRequest& r, std::string* detail) const {
    const Market* m = impl_.MarketOf(r.symbol);
    if (m == nullptr || m->conversion_only) {
      *detail = "symbol " + std::to_string(r.symbol) + " is not traded in this backtest";
      return Reason::kUnknownSymbol;
    }
    const Instrument& in = m->instrument;
    const std::string of = " of " + in.symbol;
    const Decimal zero;
    if (!(r.quantity > zero)) {
      *detail = "quantity " + r.quantity.ToString() + " is not positive";
      return Reason::kNonPositive;
    }
    const Amount qty = Amount::FromDecimal(r.quantity);
    if (!qty.IsMultipleOf(Amount::FromDecimal(in.lot_size))) {
      *detail = "quantity " + r.quantity.ToString() + " is not a whole number of lots (" + in.lot_size.ToString() + ")" + of;
      return Reason::kOffLot;
    }
    if (r.quantity < in.min_order) {
      *detail = "quantity " + r.quantity.ToString() + " is below the minimum order " + in.min_order.ToString() + of;
      return Reason::kBelowMinimum;
    }
    const bool has_limit = r.type == OrderType::kLimit || r.type == OrderType::kStopLimit;
    const bool has_stop = r.type == OrderType::kStopMarket || r.type == OrderType::kStopLimit;
    const Amount tick = Amount::FromDecimal(in.tick_size);
    for (const auto& [needed, price, name] : {std::tuple{has_limit, r.limit, "limit"}, std::tuple{has_stop, r.stop, "stop"}}) {
      if (!needed) continue;
      if (price.mantissa() == 0) {
        *detail = std::string(ToString(r.type)) + " order without its " + name + " price";
        return Reason::kMissingPrice;
      }
      if (!(price > zero)) {
        *detail = std::string(name) + " price " + price.ToString() + " is not positive";
        return Reason::kNonPositive;
      }
      if (!Amount::FromDecimal(price).IsMultipleOf(tick)) {
        *detail = std::string(name) + " price " + price.ToString() + " is off the tick (" + in.tick_size.ToString() + ")" + of;
        return Reason::kOffTick;
      }
    }
    if (r.post_only && r.type != OrderType::kLimit) {
      *detail = "post-only needs a limit order";
      return Reason::kMissingPrice;
    }
    if (r.type == OrderType::kMarket && !m->traded) {
      *detail = in.symbol + " has not traded yet: nothing prices a market order";
      return Reason::kNoMarketPrice;
    }
    Amount need, notional;
    if (!Need(r, *m, qty, &need) ||
        !Amount::Mul(qty, has_limit ? r.limit : (has_stop ? r.stop : m->last_price), &notional) || notional > kMaxNotional) {
      *detail = "quantity " + r.quantity.ToString() + " is worth more than 1e15" + of;
      return Reason::kTooLarge;
    }
    const std::uint16_t c = r.side == Side::kBuy ? m->quote : m->base;
    Amount free = balances_[c];
    if (!Amount::Sub(free, Reserved(c), &free) || need > free) {
      *detail = "needs " + need.ToString() + " " + impl_.CurrencyName(c) + ", " + free.ToString() + " available";
      return Reason::kInsufficientFunds;
    }
    return Reason::kNone;
  }

  void Queue(OrderEvent::Kind kind, const Order& o, Reason reason, std::optional<Fill> fill = std::nullopt) {
    events_.push_back(OrderEvent{kind, o.id, o.request.symbol, now_, reason, reason == Reason::kNone ? std::string() : o.detail,
                                 std::move(fill)});
  }
  void Deliver() {
    std::size_t delivered = 0;
    while (!events_.empty()) {
      if (++delivered > kMaxEventsPerCallback) {
        impl_.failed_ = true;
        if (failure_.ok()) {
          failure_ = MakeError(ErrorCode::kInvalidArgument,
                               "strategy " + strategy_->name() + " placed more than " +
                                   std::to_string(kMaxEventsPerCallback) +
                                   " orders while handling one event (does it resubmit on every rejection?)");
        }
        events_.clear();
        return;
      }
      const OrderEvent e = std::move(events_.front());
      events_.pop_front();
      strategy_->OnOrder(*this, e);
    }
  }

  void Close(Order& o, OrderStatus status, Reason reason) {
    const bool was_open = IsOpen(o);
    o.status = status;
    o.reason = reason;
    o.closed = now_;
    if (!was_open || status == OrderStatus::kRejected) return;  // a rejected order never was in the book
    auto& list = open_[o.request.symbol];
    if (auto it = std::find(list.begin(), list.end(), o.id); it != list.end()) list.erase(it);
    open_ids_.erase(o.id);
  }
  void CancelOrder(Order& o, Reason reason) {
    Close(o, OrderStatus::kCancelled, reason);
    Queue(OrderEvent::Kind::kCancelled, o, reason);
  }

  void ApplyPending(UnixNanos t) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->at > t) {
        ++it;
        continue;
      }
      Order* o = Find(it->id);
      if (o != nullptr && IsOpen(*o)) {
        if (it->cancel) {
          CancelOrder(*o, Reason::kCancelledByStrategy);
        } else {
          Book& b = BookOf(o->id);
          if (it->quantity) {
            const Amount q = Amount::FromDecimal(*it->quantity);
            if (q > Amount::FromDecimal(o->request.quantity)) b.queue_ahead = Amount(), b.arrived = false;  // loses its place
            if (q <= o->filled) {
              o->request.quantity = *it->quantity;
              Close(*o, OrderStatus::kFilled, Reason::kNone);
              Queue(OrderEvent::Kind::kAmended, *o, Reason::kNone);
              it = pending_.erase(it);
              continue;
            }
            o->request.quantity = *it->quantity;
          }
          if (it->limit && !(*it->limit == o->request.limit)) {
            o->request.limit = *it->limit;
            b.arrived = false;  // rests again behind the queue at its new price
          }
          Queue(OrderEvent::Kind::kAmended, *o, Reason::kNone);
        }
      }
      it = pending_.erase(it);
    }
  }

  // Arrival at the exchange: post-only check, the taking phase, the queue estimate.
  void Arrive(Order& o, Book& b, const Market& m) {
    b.arrived = true;
    o.status = OrderStatus::kOpen;
    const OrderRequest& r = o.request;
    if (r.type != OrderType::kLimit && !(r.type == OrderType::kStopLimit && o.triggered)) return;
    const bool marketable = m.traded && (r.side == Side::kBuy ? m.last_price <= r.limit : m.last_price >= r.limit);
    if (r.post_only && marketable) return CancelOrder(o, Reason::kPostOnlyWouldTake);
    b.taking = marketable && !b.first_trade_done;
    if (model_.rule == FillRule::kConservative) b.queue_ahead = impl_.RecentVolumeAt(m, r.limit);
  }

  void Match(const Trade& t, Market& m) {
    Amount volume = Amount::FromDecimal(t.volume);
    const Amount tick = Amount::FromDecimal(m.instrument.tick_size);
    // A copy: fills and cancels edit the open list.
    const std::vector<OrderId> ids = open_[t.symbol];
    for (OrderId id : ids) {
      Order& o = orders_[id - 1];
      if (!IsOpen(o) || o.arrives > t.time) continue;
      Book& b = BookOf(id);
      const OrderRequest& r = o.request;
      const bool buy = r.side == Side::kBuy;
      const bool stop = r.type == OrderType::kStopMarket || r.type == OrderType::kStopLimit;
      if (stop && !o.triggered) {
        if (!b.arrived) b.arrived = true, o.status = OrderStatus::kOpen;
        if (buy ? t.price >= r.stop : t.price <= r.stop) {
          o.triggered = true;
          b.arrived = false;  // arrives again as a market or limit order on the next trade
          Queue(OrderEvent::Kind::kTriggered, o, Reason::kNone);
        }
        continue;  // a triggered stop executes from the next trade on
      }
      if (!b.arrived) {
        Arrive(o, b, m);
        if (!IsOpen(o)) continue;
      }
      const bool market = r.type == OrderType::kMarket || r.type == OrderType::kStopMarket;
      const bool first = !b.first_trade_done;
      b.first_trade_done = true;
      Amount qty, price_units;
      bool maker = false;
      Decimal price;
      if (market || b.taking) {
        b.taking = false;
        const bool reaches = market || (buy ? t.price <= r.limit : t.price >= r.limit);
        if (reaches) {
          price = t.price;
          if (model_.rule == FillRule::kConservative) {
            Amount p = Amount::FromDecimal(t.price), s = impl_.Slippage(m);
            if (!(buy ? Amount::Add(p, s, &p) : Amount::Sub(p, s, &p))) continue;
            price = RoundToTick(m, p, buy);
            if (!market) price = buy ? std::min(price, r.limit) : std::max(price, r.limit);
            if (!(price > Decimal())) price = t.price;
          }
          qty = std::min(o.Remaining(), volume);
        }
      } else {
        price = r.limit;
        const bool through = buy ? t.price < r.limit : t.price > r.limit;
        const bool at = t.price == r.limit;
        if (model_.rule == FillRule::kTouch) {
          if (through || at) qty = std::min(o.Remaining(), volume);
        } else {
          // Only trades initiated by the other side reach a resting order.
          const bool other_side = buy ? m.aggressor <= 0 : m.aggressor >= 0;
          Amount lim = Amount::FromDecimal(r.limit), bound;
          const bool by_a_tick = buy ? Amount::Sub(lim, tick, &bound) && Amount::FromDecimal(t.price) <= bound
                                     : Amount::Add(lim, tick, &bound) && Amount::FromDecimal(t.price) >= bound;
          if (through) b.queue_ahead = Amount();  // everything at the limit traded
          if (other_side && by_a_tick) {
            qty = std::min(o.Remaining(), volume);
          } else if (other_side && (at || through)) {
            const Amount consumed = std::min(b.queue_ahead, volume);
            (void)Amount::Sub(b.queue_ahead, consumed, &b.queue_ahead);
            Amount left;
            (void)Amount::Sub(volume, consumed, &left);
            qty = std::min(o.Remaining(), left);
          }
        }
        maker = true;
      }
      if (r.tif == TimeInForce::kFillOrKill && first && qty < o.Remaining()) {
        CancelOrder(o, Reason::kUnfilledRemainder);
        continue;
      }
      if (qty > Amount()) {
        qty = Affordable(o, m, price, qty, maker);
        if (qty <= Amount()) {
          CancelOrder(o, Reason::kInsufficientFunds);
          continue;
        }
        if (!ApplyFill(o, m, price, qty, maker)) return;
        (void)Amount::Sub(volume, qty, &volume);
      }
      if (IsOpen(o) && r.tif != TimeInForce::kGoodTillCancel && first) CancelOrder(o, Reason::kUnfilledRemainder);
    }
  }

  Decimal RateFor(bool maker) const {
    const FeeTier& tier = impl_.fees().TierFor(now_, window_sum_);
    return maker ? tier.maker : tier.taker;
  }

  // The part of `qty` the balances can pay (whole lots): spot rules, no margin.
  Amount Affordable(const Order& o, const Market& m, Decimal price, Amount qty, bool maker) {
    const bool in_base = FeeInBase(o.request);
    Amount one_plus = Amount::FromInt(1);
    (void)Amount::Add(one_plus, Amount::FromDecimal(RateFor(maker)), &one_plus);
    Amount limit_qty;  // the most the balance pays
    if (o.request.side == Side::kBuy) {
      Amount per_unit = Amount::FromDecimal(price);
      if (!in_base && !Amount::Mul(per_unit, one_plus, &per_unit)) return Amount();
      if (!Amount::Div(balances_[m.quote], per_unit, Amount::kScale, Rounding::kFloor, &limit_qty)) return Amount();
    } else {
      limit_qty = balances_[m.base];
      if (in_base && !Amount::Div(limit_qty, one_plus, Amount::kScale, Rounding::kFloor, &limit_qty)) return Amount();
    }
    if (qty <= limit_qty) return qty;
    const Int128 lot = Amount::FromDecimal(m.instrument.lot_size).units();
    return limit_qty <= Amount() ? Amount() : Amount::FromUnits(limit_qty.units() - limit_qty.units() % lot);
  }

  bool Fail(const std::string& what) {
    impl_.failed_ = true;
    if (failure_.ok()) failure_ = MakeError(ErrorCode::kOutOfRange, what);
    return false;
  }

  bool ApplyFill(Order& o, Market& m, Decimal price, Amount qty, bool maker) {
    const OrderRequest& r = o.request;
    const bool buy = r.side == Side::kBuy;
    const bool in_base = FeeInBase(r);
    Amount notional;
    bool inexact = false;
    if (!Amount::Mul(qty, price, &notional, &inexact)) return Fail("a fill's value overflows");
    out_.rounded_notionals += inexact;
    const Decimal rate = RateFor(maker);
    const std::uint16_t fee_cur = in_base ? m.base : m.quote;
    Amount fee;
    if (!Amount::Mul(in_base ? qty : notional, rate, &fee)) return Fail("a fee overflows");
    fee = fee.Round(impl_.DecimalsOf(fee_cur), Rounding::kHalfUp);
    // Balances.
    Amount& base = balances_[m.base];
    Amount& quote = balances_[m.quote];
    bool ok = buy ? Amount::Sub(quote, notional, &quote) && Amount::Add(base, qty, &base)
                  : Amount::Sub(base, qty, &base) && Amount::Add(quote, notional, &quote);
    ok = ok && Amount::Sub(balances_[fee_cur], fee, &balances_[fee_cur]);
    if (!ok) return Fail("a balance overflows");
    // Fee in the quote currency's terms, for the trip and the metrics.
    Amount fee_quote = fee;
    if (in_base && !Amount::Mul(fee, price, &fee_quote)) return Fail("a fee overflows");
    Amount fee_value;
    if (impl_.Value(fee, fee_cur, 0, &fee_value)) (void)Amount::Add(out_.metrics.fees_paid, fee_value, &out_.metrics.fees_paid);
    Amount& by_cur = out_.metrics.fees_by_currency[impl_.CurrencyName(fee_cur)];
    (void)Amount::Add(by_cur, fee, &by_cur);
    // 30-day volume in USD, at the rate of the moment (0 if the quote has no rate yet).
    Amount usd;
    if (impl_.Value(notional, m.quote, 1, &usd)) {
      window_.push_back({now_.ns, usd});
      (void)Amount::Add(window_sum_, usd, &window_sum_);
    }
    // Position: FIFO lots of what this symbol bought.
    Position& p = positions_[r.symbol];
    Amount realized;
    const Amount min_order = Amount::FromDecimal(m.instrument.min_order);
    const bool was_flat = p.quantity < min_order;
    TripState& trip = trips_[r.symbol];
    if (buy) {
      Amount received = qty;
      if (in_base) (void)Amount::Sub(received, fee, &received);
      lots_[r.symbol].push_back(Lot{received, price});
      Amount cost;
      if (!Amount::Mul(received, price, &cost)) return Fail("a position's cost overflows");
      (void)Amount::Add(p.cost, cost, &p.cost);
      (void)Amount::Add(p.quantity, received, &p.quantity);
      if (was_flat && !trip.open) {
        trip = TripState{};
        trip.open = true;
        trip.t.symbol = r.symbol;
        trip.t.opened = now_;
      }
      if (trip.open) {
        (void)Amount::Add(trip.t.quantity, qty, &trip.t.quantity);
        (void)Amount::Add(trip.t.bought_notional, notional, &trip.t.bought_notional);
      }
    } else {
      Amount to_remove = qty;
      if (in_base) (void)Amount::Add(to_remove, fee, &to_remove);
      Amount sold_cost, fee_cost;
      Amount sold_left = qty;
      auto& lots = lots_[r.symbol];
      while (to_remove > Amount() && !lots.empty()) {
        Lot& lot = lots.front();
        const Amount take = std::min(lot.quantity, to_remove);
        Amount c;
        (void)Amount::Mul(take, lot.price, &c);
        // The first `qty` units leaving are the sale; the rest (a fee in base) is the fee.
        const Amount sold_part = std::min(take, sold_left);
        Amount sold_c;
        (void)Amount::Mul(sold_part, lot.price, &sold_c);
        (void)Amount::Add(sold_cost, sold_c, &sold_cost);
        (void)Amount::Sub(sold_left, sold_part, &sold_left);
        Amount rest;
        (void)Amount::Sub(c, sold_c, &rest);
        (void)Amount::Add(fee_cost, rest, &fee_cost);
        (void)Amount::Sub(p.cost, c, &p.cost);
        (void)Amount::Sub(lot.quantity, take, &lot.quantity);
        (void)Amount::Sub(to_remove, take, &to_remove);
        if (lot.quantity.IsZero()) lots.pop_front();
      }
      // Units sold beyond the lots (bought before the run, e.g. initial balances) have no cost here.
      Amount removed = qty;
      if (in_base) (void)Amount::Add(removed, fee, &removed);
      (void)Amount::Sub(p.quantity, std::min(p.quantity, removed), &p.quantity);
      (void)Amount::Sub(notional, sold_cost, &realized);
      (void)Amount::Add(p.realized_pnl, realized, &p.realized_pnl);
      if (trip.open) {
        (void)Amount::Add(trip.t.sold_quantity, qty, &trip.t.sold_quantity);
        (void)Amount::Add(trip.t.sold_notional, notional, &trip.t.sold_notional);
        (void)Amount::Add(trip.realized, realized, &trip.realized);
      }
    }
    if (trip.open) {
      ++trip.t.fills;
      (void)Amount::Add(trip.t.fees_quote, fee_quote, &trip.t.fees_quote);
      if (!buy && p.quantity < min_order) {
        trip.t.closed = now_;
        (void)Amount::Sub(trip.realized, trip.t.fees_quote, &trip.t.pnl);
        if (!impl_.Value(trip.t.pnl, m.quote, 0, &trip.t.pnl_base)) trip.t.pnl_base = trip.t.pnl;
        out_.round_trips.push_back(trip.t);
        trip.open = false;
      }
    }
    // The order.
    (void)Amount::Add(o.filled, qty, &o.filled);
    (void)Amount::Add(o.filled_notional, notional, &o.filled_notional);
    Fill f{o.id, r.symbol, r.side, now_, price, qty, fee, fee_cur, maker, realized};
    out_.fills.push_back(f);
    if (o.Remaining() <= Amount()) {
      Close(o, OrderStatus::kFilled, Reason::kNone);
      Queue(OrderEvent::Kind::kFilled, o, Reason::kNone, f);
    } else {
      Queue(OrderEvent::Kind::kPartiallyFilled, o, Reason::kNone, f);
    }
    ExpireWindow();
    return true;
  }

  void ExpireWindow() {
    const std::int64_t cutoff = now_.ns - 30 * kNanosPerDay;
    while (!window_.empty() && window_.front().first < cutoff) {
      (void)Amount::Sub(window_sum_, window_.front().second, &window_sum_);
      window_.pop_front();
    }
  }

  struct TripState {
    bool open = false;
    RoundTrip t;
    Amount realized;
  };

  Impl& impl_;
  std::unique_ptr<Strategy> owned_;
  Strategy* strategy_;
  ExecutionModel model_;
  std::uint64_t rng_;
  UnixNanos now_{0};
  std::vector<Amount> balances_;
  std::vector<Position> positions_;
  std::map<SymbolId, std::deque<Lot>> lots_;
  std::map<SymbolId, TripState> trips_;
  std::vector<Order> orders_;
  std::vector<Book> books_;
  std::vector<std::vector<OrderId>> open_;
  std::set<OrderId> open_ids_;
  std::vector<Pending> pending_;
  std::deque<OrderEvent> events_;
  std::priority_queue<Timer> timers_;
  std::uint64_t timer_seq_ = 0;
  std::deque<std::pair<std::int64_t, Amount>> window_;  // (time, USD notional) of fills in the last 30 days
  Amount window_sum_;
  ModelRun out_;
  Status failure_;
  friend class Impl;
};

void Backtester::Impl::AddRun(std::unique_ptr<Strategy> owned, Strategy* strategy, const ExecutionModel& model) {
  runs_.push_back(std::make_unique<Run>(*this, std::move(owned), strategy, model));
  conservative_ = conservative_ || model.rule == FillRule::kConservative;
}

void Backtester::Impl::SetLabel(std::size_t run, const std::string& label) { runs_[run]->out_.label = label; }

void Backtester::Impl::UpdateMarket(Market& m, const Trade& t, int previous_aggressor) {
  if (!conservative_) {
    if (!m.traded) m.first_price = t.price;
    m.traded = true;
    m.last_price = t.price;
    m.last_time = t.time;
    return;
  }
  if (m.traded && t.price != m.last_price) {
    if (previous_aggressor != 0 && m.aggressor != previous_aggressor) {  // a bounce between the sides: a spread sample
      Amount change;
      (void)Amount::Sub(Amount::FromDecimal(t.price), Amount::FromDecimal(m.last_price), &change);
      if (change.IsNegative()) change = -change;
      if (m.bounce_count == kBounceWindow) (void)Amount::Sub(m.bounce_sum, m.bounces[m.bounce_next], &m.bounce_sum);
      else ++m.bounce_count;
      m.bounces[m.bounce_next] = change;
      (void)Amount::Add(m.bounce_sum, change, &m.bounce_sum);
      m.bounce_next = (m.bounce_next + 1) % kBounceWindow;
    }
  }
  if (!m.traded) m.first_price = t.price;
  m.traded = true;
  m.last_price = t.price;
  m.last_time = t.time;
  m.recent.push_back(RecentTrade{t.time.ns, t.price, t.volume});
  while (!m.recent.empty() &&
         (m.recent.front().time < t.time.ns - kQueueWindowNs || m.recent.size() > kMaxRecentTrades)) {
    m.recent.pop_front();
  }
}

Status Backtester::Impl::OnTrades(std::span<const Trade> trades) {
  if (finished_) return MakeError(ErrorCode::kInvalidArgument, "OnTrade after Finish");
  for (const Trade& t : trades) {
    if (!Step(t)) [[unlikely]]
      return std::exchange(error_, Status());
  }
  return {};
}

// One trade; false with error_ set on an error. Inline into OnTrades' loop: a
// call with a Status result (and a fresh Bar) per trade took two fifths of an
// idle strategy's time (backtest_bench: 34 M -> 57 M trades/s without them).
inline bool Backtester::Impl::Step(const Trade& t) {
  if (t.time < now_) [[unlikely]] {
    error_ = MakeError(ErrorCode::kInvalidArgument, "trade at " + FormatIso8601(t.time) + " is earlier than " +
                                                        FormatIso8601(now_) + ": trades must come in time order");
    return false;
  }
  Market* m = MarketOf(t.symbol);
  if (m == nullptr) [[unlikely]] {
    AddMarket(t.symbol, DefaultInstrument(t.symbol));
    m = MarketOf(t.symbol);
    m->resampler.emplace(options_.bar_resolution);
    ComputePaths();
  }
  ++events_;
  ++sequence_;
  now_ = t.time;
  // The aggressor side of this trade by the tick rule (docs/backtest.md); only the
  // conservative fill rule reads it (two comparisons a trade saved otherwise).
  const int previous_aggressor = m->aggressor;
  if (conservative_ && m->traded && t.price != m->last_price) m->aggressor = t.price > m->last_price ? 1 : -1;
  // Equity is valued at each period boundary the clock crosses, at the prices of the
  // trades before it: never with a trade from after the point it is labelled with.
  if (t.time >= next_period_) [[unlikely]] {
    if (!started_) {
      started_ = true;
      for (auto& r : runs_) r->Start(t.time);
      for (auto& r : runs_) r->RecordEquity(t.time);
      RecordBenchmark(t.time);
    } else {
      const UnixNanos period = BucketStart(t.time, options_.bar_resolution);
      for (auto& r : runs_) r->RecordEquity(period);
      RecordBenchmark(period);
    }
    next_period_ = NextBucketStart(t.time, options_.bar_resolution);
  }
  for (auto& r : runs_) {
    r->FireTimers(t.time);
    r->BeforeTrade(t, *m);
  }
  UpdateMarket(*m, t, previous_aggressor);
  if (!m->conversion_only) {
    switch (m->resampler->Add(t, &done_bar_)) {
      case bars::AddStatus::kPending: break;
      case bars::AddStatus::kBarDone:
        CloseBar(t.symbol, done_bar_);
        break;
      case bars::AddStatus::kOutOfOrder:
        error_ = MakeError(ErrorCode::kInvalidArgument, "trades out of time order");
        return false;
      case bars::AddStatus::kVolumeOverflow:
        error_ = MakeError(ErrorCode::kOutOfRange, "bar volume overflow");
        return false;
    }
    for (auto& r : runs_) r->OnTrade(t);
  }
  if (overflow_ || failed_) [[unlikely]] {
    if (overflow_) {
      error_ = MakeError(ErrorCode::kOutOfRange, "an amount left the exact range (about 1.7e20)");
      return false;
    }
    for (auto& r : runs_) {
      if (!r->failure().ok()) {
        error_ = r->failure();
        return false;
      }
    }
  }
  return true;
}

void Backtester::Impl::CloseBar(SymbolId symbol, const Bar& bar) {
  bars_[symbol].push_back(bar);
  for (auto& r : runs_) r->AfterBar(symbol, bar);
}

// Buy and hold: the initial equity split equally over the traded symbols, each
// share bought at its symbol's first trade at that price, no fees; before that it is cash.
void Backtester::Impl::RecordBenchmark(UnixNanos time) {
  if (!benchmark_cash_per_symbol_) {
    Amount e0;
    for (const auto& [c, a] : options_.initial_cash) {
      Amount v;
      if (!Value(a, CurrencyIndex(c), 0, &v)) return;
      (void)Amount::Add(e0, v, &e0);
    }
    benchmark_symbols_ = 0;
    for (const Market& m : markets_) benchmark_symbols_ += !m.conversion_only;
    if (benchmark_symbols_ == 0) return;
    Amount share;
    if (!Amount::Div(e0, Amount::FromInt(static_cast<std::int64_t>(benchmark_symbols_)), Amount::kScale,
                     Rounding::kFloor, &share)) {
      return;
    }
    benchmark_cash_per_symbol_ = share;
  }
  Amount total;
  for (Market& m : markets_) {
    if (m.conversion_only) continue;
    if (!m.benchmark_bought && m.traded) {
      // The share in the quote currency, then base units at the first price seen.
      Amount one_quote, share_quote;
      if (!Value(Amount::FromInt(1), m.quote, 0, &one_quote) || one_quote.IsZero()) {
        (void)Amount::Add(total, *benchmark_cash_per_symbol_, &total);
        continue;
      }
      if (!Amount::Div(*benchmark_cash_per_symbol_, one_quote, Amount::kScale, Rounding::kFloor, &share_quote) ||
          !Amount::Div(share_quote, Amount::FromDecimal(m.first_price), Amount::kScale, Rounding::kFloor,
                       &m.benchmark_units)) {
        continue;
      }
      m.benchmark_bought = true;
    }
    Amount v = *benchmark_cash_per_symbol_;
    if (m.benchmark_bought && !Value(m.benchmark_units, m.base, 0, &v)) v = Amount();
    (void)Amount::Add(total, v, &total);
  }
  if (!benchmark_.empty() && benchmark_.back().time == time) {
    benchmark_.back().equity = total;
  } else {
    benchmark_.push_back(EquityPoint{time, total, Amount()});
  }
}

Result<Results> Backtester::Impl::Finish() {
  if (finished_) return MakeError(ErrorCode::kInvalidArgument, "Finish called twice");
  finished_ = true;
  Results out;
  if (started_) {
    for (std::size_t i = 0; i < markets_.size(); ++i) {
      Market& m = markets_[i];
      if (m.conversion_only) continue;
      Bar done;
      if (m.resampler->Flush(&done)) CloseBar(market_ids_[i], done);
    }
    for (auto& r : runs_) {
      r->End(now_);
      if (r->out_.equity.empty() || r->out_.equity.back().time < now_) r->RecordEquity(now_);
    }
    if (benchmark_.empty() || benchmark_.back().time < now_) RecordBenchmark(now_);
  }
  if (overflow_) return MakeError(ErrorCode::kOutOfRange, "an amount left the exact range (about 1.7e20)");
  for (auto& r : runs_) {
    if (!r->failure().ok()) return r->failure().error();
  }
  for (auto& r : runs_) out.runs.push_back(r->Take(events_));
  out.currencies = currencies_;
  out.bars = std::move(bars_);
  out.benchmark = std::move(benchmark_);
  out.benchmark_metrics = ComputeMetrics(out.benchmark, {}, events_);
  for (const auto& [c, age] : rate_age_) out.max_rate_age_seconds[currencies_[c]] = age;
  for (std::size_t c = 1; c < currencies_.size() && c < paths_to_base_.size(); ++c) {
    if (!paths_to_base_[c]) continue;
    std::vector<SymbolId> path;
    for (const Hop& h : *paths_to_base_[c]) path.push_back(market_ids_[h.market]);
    if (!path.empty()) out.conversion_paths[currencies_[c]] = std::move(path);
  }
  return out;
}

Backtester::Backtester(StrategyFactory factory, BacktestOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  const auto models = impl_->options().models;
  for (std::size_t i = 0; i < models.size(); ++i) {
    auto s = factory();
    Strategy* raw = s.get();
    impl_->AddRun(std::move(s), raw, models[i]);
  }
}
Backtester::Backtester(std::vector<RunSpec> runs, BacktestOptions options) {
  TICKFLOW_CHECK(!runs.empty(), "a Backtester needs at least one run");
  options.models.clear();
  for (const RunSpec& r : runs) options.models.push_back(r.model);
  impl_ = std::make_unique<Impl>(std::move(options));
  for (std::size_t i = 0; i < runs.size(); ++i) {
    auto s = runs[i].make();
    Strategy* raw = s.get();
    impl_->AddRun(std::move(s), raw, runs[i].model);
    impl_->SetLabel(i, runs[i].label);
  }
}
Backtester::Backtester(Strategy& strategy, BacktestOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->AddRun(nullptr, &strategy, impl_->options().models.front());
}
Backtester::~Backtester() = default;
Status Backtester::OnTrade(const Trade& trade) { return impl_->OnTrades({&trade, 1}); }
Status Backtester::OnTrades(std::span<const Trade> trades) { return impl_->OnTrades(trades); }
Result<Results> Backtester::Finish() { return impl_->Finish(); }

std::string_view ToString(Side s) { return s == Side::kBuy ? "buy" : "sell"; }
std::string_view ToString(OrderType t) {
  switch (t) {
    case OrderType::kMarket: return "market";
    case OrderType::kLimit: return "limit";
    case OrderType::kStopMarket: return "stop-market";
    case OrderType::kStopLimit: return "stop-limit";
  }
  return "?";
}
std::string_view ToString(TimeInForce t) {
  switch (t) {
    case TimeInForce::kGoodTillCancel: return "gtc";
    case TimeInForce::kImmediateOrCancel: return "ioc";
    case TimeInForce::kFillOrKill: return "fok";
  }
  return "?";
}
std::string_view ToString(OrderStatus s) {
  switch (s) {
    case OrderStatus::kSent: return "sent";
    case OrderStatus::kOpen: return "open";
    case OrderStatus::kFilled: return "filled";
    case OrderStatus::kCancelled: return "cancelled";
    case OrderStatus::kRejected: return "rejected";
  }
  return "?";
}
std::string_view ToString(Reason r) {
  switch (r) {
    case Reason::kNone: return "";
    case Reason::kInsufficientFunds: return "insufficient funds";
    case Reason::kBelowMinimum: return "below the minimum order";
    case Reason::kOffLot: return "quantity not a whole number of lots";
    case Reason::kOffTick: return "price off the tick";
    case Reason::kNonPositive: return "quantity or price not positive";
    case Reason::kMissingPrice: return "limit or stop price missing";
    case Reason::kPostOnlyWouldTake: return "post-only order would take";
    case Reason::kUnknownSymbol: return "unknown symbol";
    case Reason::kNoMarketPrice: return "no trade yet to price a market order";
    case Reason::kTooLarge: return "notional above 1e15";
    case Reason::kCancelledByStrategy: return "cancelled by the strategy";
    case Reason::kUnfilledRemainder: return "unfilled remainder (IOC/FOK)";
    case Reason::kEndOfData: return "open at the end of the data";
  }
  return "?";
}
std::string_view ToString(OrderEvent::Kind k) {
  switch (k) {
    case OrderEvent::Kind::kAccepted: return "accepted";
    case OrderEvent::Kind::kRejected: return "rejected";
    case OrderEvent::Kind::kTriggered: return "triggered";
    case OrderEvent::Kind::kPartiallyFilled: return "partially filled";
    case OrderEvent::Kind::kFilled: return "filled";
    case OrderEvent::Kind::kCancelled: return "cancelled";
    case OrderEvent::Kind::kAmended: return "amended";
  }
  return "?";
}

}  // namespace tickflow::backtest
