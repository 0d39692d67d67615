#include <algorithm>
#include <cmath>
#include <deque>

#include "tickflow/backtest/backtest.hpp"
#include "tickflow/bars/resampler.hpp"

namespace tickflow::backtest {

class Backtester::Impl final : public Account {
 public:
  Impl(Strategy& strategy, BacktestOptions options)
      : strategy_(strategy), options_(options), fees_(options.fees ? *options.fees : FeeSchedule::Kraken()),
        cash_(options.initial_cash) {}

  // Account ---------------------------------------------------------------------
  OrderId Buy(SymbolId symbol, double quantity, std::optional<Decimal> limit) override {
    return Place(symbol, Side::kBuy, quantity, limit);
  }
  OrderId Sell(SymbolId symbol, double quantity, std::optional<Decimal> limit) override {
    return Place(symbol, Side::kSell, quantity, limit);
  }
  bool Cancel(OrderId id) override {
    for (auto& [symbol, orders] : orders_) {
      for (auto it = orders.begin(); it != orders.end(); ++it) {
        if (it->id == id) {
          orders.erase(it);
          --pending_orders_;
          return true;
        }
      }
    }
    return false;
  }
  void CancelAll(SymbolId symbol) override {
    auto& orders = orders_[symbol];
    pending_orders_ -= orders.size();
    orders.clear();
  }
  const Position& position(SymbolId symbol) const override {
    static const Position kFlat;
    const Position* p = position_by_id_[symbol];
    return p == nullptr ? kFlat : *p;
  }
  double cash() const override { return cash_; }
  double equity() const override {
    double e = cash_;
    for (const auto& [s, p] : positions_) e += p.quantity * p.last_price.ToDouble();
    return e;
  }
  UnixNanos now() const override { return now_; }
  std::size_t open_orders(SymbolId symbol) const override {
    auto it = orders_.find(symbol);
    return it == orders_.end() ? 0 : it->second.size();
  }
  void Signal(SymbolId symbol, Decimal price, std::string text) override {
    results_.signals.push_back(backtest::Signal{symbol, now_, price, std::move(text)});
  }

  // Driving ---------------------------------------------------------------------
  Status OnTrade(const Trade& t) {
    if (t.time < now_) {
      return MakeError(ErrorCode::kInvalidArgument, "trade at " + FormatIso8601(t.time) + " is earlier than " +
                                                        FormatIso8601(now_) + ": trades must come in time order");
    }
    if (!started_) {
      started_ = true;
      results_.metrics.first = t.time;
      strategy_.OnStart(*this);
    }
    ++events_;
    // Exposure: time spent holding any position.
    if (Holding()) exposed_ns_ += t.time.ns - now_.ns;
    if (now_.ns != 0) span_ns_ += t.time.ns - now_.ns;
    now_ = t.time;
    if (pending_orders_ > 0) Match(t);  // orders placed before this trade
    Position*& pos = position_by_id_[t.symbol];
    if (pos == nullptr) pos = &positions_[t.symbol];
    pos->last_price = t.price;
    // Bars at the backtest's resolution, complete before the trade that follows them.
    bars::Resampler*& resampler = resampler_by_id_[t.symbol];
    if (resampler == nullptr) resampler = &resamplers_.try_emplace(t.symbol, options_.bar_resolution).first->second;
    Bar done;
    switch (resampler->Add(t, &done)) {
      case bars::AddStatus::kBarDone:
        CloseBar(t.symbol, done);
        break;
      case bars::AddStatus::kPending: break;
      case bars::AddStatus::kOutOfOrder: return MakeError(ErrorCode::kInvalidArgument, "trades out of time order");
      case bars::AddStatus::kVolumeOverflow: return MakeError(ErrorCode::kOutOfRange, "bar volume overflow");
    }
    strategy_.OnTrade(*this, t);
    return {};
  }

  Results Finish() {
    for (auto& [symbol, r] : resamplers_) {
      Bar done;
      if (r.Flush(&done)) CloseBar(symbol, done);
    }
    if (started_) strategy_.OnEnd(*this);
    if (started_ && (results_.equity.empty() || results_.equity.back().time < now_)) {
      results_.equity.push_back(EquityPoint{now_, equity()});  // the final mark
    }
    results_.metrics = ComputeMetrics(results_.equity, results_.round_trips, results_.fills,
                                      span_ns_ > 0 ? static_cast<double>(exposed_ns_) / static_cast<double>(span_ns_) : 0,
                                      events_);
    results_.metrics.initial_equity = options_.initial_cash;
    return std::move(results_);
  }

 private:
  bool Holding() const { return open_positions_ > 0; }

  OrderId Place(SymbolId symbol, Side side, double quantity, std::optional<Decimal> limit) {
    if (!(quantity > 0)) return 0;  // nothing to do; 0 is never a valid id
    Order o;
    o.id = ++next_id_;
    o.symbol = symbol;
    o.side = side;
    o.type = limit ? OrderType::kLimit : OrderType::kMarket;
    o.quantity = quantity;
    if (limit) o.limit = *limit;
    o.placed = now_;
    orders_[symbol].push_back(o);
    ++pending_orders_;
    if (position_by_id_[symbol] == nullptr) position_by_id_[symbol] = &positions_[symbol];
    return o.id;
  }

  double Volume30d() {
    const std::int64_t cutoff = now_.ns - 30 * kNanosPerDay;
    while (!window_.empty() && window_.front().first < cutoff) {
      window_sum_ -= window_.front().second;
      window_.pop_front();
    }
    return window_sum_;
  }

  // Fills resting orders against one trade, oldest first, sharing its volume.
  void Match(const Trade& t) {
    auto it = orders_.find(t.symbol);
    if (it == orders_.end() || it->second.empty()) return;
    double available = t.volume.ToDouble();
    auto& orders = it->second;
    for (auto o = orders.begin(); o != orders.end() && available > 0;) {
      const bool marketable = o->type == OrderType::kMarket ||
                              (o->side == Side::kBuy ? t.price <= o->limit : t.price >= o->limit);
      if (!marketable) {
        ++o;
        continue;
      }
      const double qty = std::min(o->quantity - o->filled, available);
      const Decimal price = o->type == OrderType::kMarket ? t.price : o->limit;
      Apply(*o, price, qty, o->type == OrderType::kLimit);
      available -= qty;
      o->filled += qty;
      if (o->quantity - o->filled <= 1e-12) {
        o = orders.erase(o);
        --pending_orders_;
      } else {
        ++o;
      }
    }
  }

  void Apply(const Order& o, Decimal price, double qty, bool maker) {
    const double px = price.ToDouble();
    const double notional = px * qty;
    const FeeSchedule::Tier& tier = fees_.TierFor(Volume30d());
    const double fee = notional * (maker ? tier.maker : tier.taker);
    window_.emplace_back(now_.ns, notional);
    window_sum_ += notional;
    Position& p = positions_[o.symbol];
    const bool was_open = p.quantity != 0;
    const double signed_qty = o.side == Side::kBuy ? qty : -qty;
    cash_ -= signed_qty * px + fee;
    fees_paid_ += fee;
    double realized = 0;
    const double before = p.quantity;
    RoundTrip& trip_ = trips_[o.symbol];
    trip_.pnl -= fee;  // every fill's fee counts against the trip it belongs to
    if (before == 0 || (before > 0) == (signed_qty > 0)) {
      // Opening or adding: a new average price.
      p.average_price = (p.average_price * std::abs(before) + px * qty) / (std::abs(before) + qty);
      p.quantity = before + signed_qty;
      if (before == 0) trip_ = RoundTrip{o.symbol, now_, now_, qty, px, 0, -fee};
    } else {
      // Reducing (and possibly reversing).
      const double closing = std::min(qty, std::abs(before));
      realized = closing * (px - p.average_price) * (before > 0 ? 1 : -1);
      p.quantity = before + signed_qty;
      if (std::abs(p.quantity) < 1e-12) p.quantity = 0;
      if (p.quantity == 0 || (p.quantity > 0) != (before > 0)) {
        trip_.closed = now_;
        trip_.exit_price = px;
        trip_.pnl += realized;
        results_.round_trips.push_back(trip_);
        if (p.quantity != 0) {  // reversed: a new trip with the rest
          p.average_price = px;
          trip_ = RoundTrip{o.symbol, now_, now_, std::abs(p.quantity), px, 0, 0};
        }
      } else {
        trip_.pnl += realized;
      }
    }
    p.realized_pnl += realized;
    open_positions_ += static_cast<int>(p.quantity != 0) - static_cast<int>(was_open);
    results_.fills.push_back(Fill{o.id, o.symbol, o.side, now_, price, qty, fee, maker, realized});
  }

  void CloseBar(SymbolId symbol, const Bar& bar) {
    results_.bars[symbol].push_back(bar);
    const EquityPoint point{bar.time, equity()};
    if (!results_.equity.empty() && results_.equity.back().time == bar.time) {
      results_.equity.back() = point;  // several symbols close the same period
    } else {
      results_.equity.push_back(point);
    }
    strategy_.OnBar(*this, symbol, bar);
  }

  Strategy& strategy_;
  BacktestOptions options_;
  const FeeSchedule& fees_;
  double cash_;
  double fees_paid_ = 0;
  UnixNanos now_{0};
  bool started_ = false;
  std::uint64_t events_ = 0;
  std::int64_t exposed_ns_ = 0, span_ns_ = 0;
  int open_positions_ = 0;
  OrderId next_id_ = 0;
  std::map<SymbolId, std::vector<Order>> orders_;
  std::map<SymbolId, Position> positions_;
  std::map<SymbolId, bars::Resampler> resamplers_;
  // Direct per-symbol pointers into the maps above (std::map nodes do not move).
  std::vector<Position*> position_by_id_ = std::vector<Position*>(65536, nullptr);
  std::vector<bars::Resampler*> resampler_by_id_ = std::vector<bars::Resampler*>(65536, nullptr);
  std::size_t pending_orders_ = 0;  // resting orders over all symbols
  std::deque<std::pair<std::int64_t, double>> window_;  // (time, notional) of fills in the last 30 days
  double window_sum_ = 0;
  std::map<SymbolId, RoundTrip> trips_;  // the open round trip per symbol
  Results results_;
};

Backtester::Backtester(Strategy& strategy, BacktestOptions options)
    : impl_(std::make_unique<Impl>(strategy, options)) {}
Backtester::~Backtester() = default;
Status Backtester::OnTrade(const Trade& trade) { return impl_->OnTrade(trade); }
Results Backtester::Finish() { return impl_->Finish(); }

}  // namespace tickflow::backtest
