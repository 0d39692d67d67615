// The monthly breakout model of the seed, on tickflow's causal library.
//
// For every trade the model first updates its context (year and month range
// data: open, high, low, close, exact) from the trade itself, then evaluates
// four checks, all of which must hold:
//   1. the previous month closed above its open;
//   2. the price is above the previous month's close;
//   3. the price is above the current month's open;
//   4. the price is above the previous month's high.
//
// No look-ahead: at any trade the context holds only data up to and including
// that trade (the reference built its context from the whole history first).
// Semantics:
//  - a month's open is its first trade's price, its close its latest trade's
//    (the reference stored the open as the close);
//  - "previous month" is the calendar month before the current one; it and the
//    current month are different context nodes (the reference pointed both
//    indices at one node);
//  - first month, or a previous calendar month without trades: there is no
//    previous month, so no breakout can be detected in that month;
//  - rollover: the first trade of a month opens it, so check 3 fails on that
//    trade (price equals open); detections start from the next higher trade.
// Trades must come in non-decreasing time order (an earlier one is an error).
// Pure and deterministic; not thread-safe (one model per stream).
#pragma once

#include <memory>

#include "tickflow/causal/causaloid.hpp"
#include "tickflow/causal/context.hpp"
#include "tickflow/core/market.hpp"

namespace tickflow::models {

struct Detection {
  UnixNanos time;
  Decimal price;
  UnixNanos current_month;  // month start
  causal::RangeData current;
  UnixNanos previous_month;
  causal::RangeData previous;
};

class MonthlyBreakoutModel {
 public:
  MonthlyBreakoutModel();
  MonthlyBreakoutModel(const MonthlyBreakoutModel&) = delete;
  MonthlyBreakoutModel& operator=(const MonthlyBreakoutModel&) = delete;

  // Updates the context with the trade, then applies the model to its price.
  // True when a breakout is detected.
  Result<bool> OnTrade(UnixNanos time, Decimal price);
  // The month ranges at the last trade (meaningful after OnTrade returned true).
  Detection last() const;
  // The same, piecewise and without copies (a strategy asks on every trade):
  // the current month's start, and the previous month's start and range
  // (UnixNanos::Min() and nullptr when there is no previous month).
  UnixNanos current_month() const { return month_start_; }
  UnixNanos previous_month() const { return previous_month_start_; }
  const causal::RangeData* previous_range() const { return previous_; }
  // Re-evaluates the last trade, recording which checks held.
  Result<bool> Explain(causal::Explanation* why) const;

  const causal::Context& context() const { return *context_; }
  std::size_t months_seen() const { return months_; }

 private:
  Status Roll(UnixNanos time, Decimal price);

  std::unique_ptr<causal::Context> context_;
  causal::Causaloid model_;
  causal::Evidence last_evidence_;
  causal::NodeIndex root_ = 0;
  causal::NodeIndex year_node_ = 0, month_node_ = 0;  // current data nodes
  causal::RangeData* year_ = nullptr;
  causal::RangeData* month_ = nullptr;
  const causal::RangeData* previous_ = nullptr;  // the context's previous month, refreshed at each roll
  UnixNanos month_start_ = UnixNanos::Min(), month_end_ = UnixNanos::Min();
  UnixNanos year_start_ = UnixNanos::Min(), year_end_ = UnixNanos::Min();
  UnixNanos previous_month_start_ = UnixNanos::Min();
  UnixNanos last_time_ = UnixNanos::Min();
  std::size_t months_ = 0;
};

}  // namespace tickflow::models
