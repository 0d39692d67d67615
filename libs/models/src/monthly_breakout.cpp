#include "tickflow/models/monthly_breakout.hpp"

#include "tickflow/core/resolution.hpp"

namespace tickflow::models {
namespace {

using causal::Context;
using causal::Evidence;
using causal::RangeData;
using causal::TimeScale;

// The month ranges the checks read; false when there is no previous month.
// Inline into each check: every trade evaluates up to four of them.
[[gnu::always_inline]] inline bool Months(const Context& ctx, const RangeData** current, const RangeData** previous) {
  const auto cur = ctx.Current(TimeScale::kMonth);
  const auto prev = ctx.Previous(TimeScale::kMonth);
  if (!cur || !prev) return false;
  *current = ctx.Find<RangeData>(*cur);
  *previous = ctx.Find<RangeData>(*prev);
  return *current != nullptr && *previous != nullptr;
}

Result<bool> PreviousMonthClosedUp(const Evidence&, const Context& ctx) {
  const RangeData *cur, *prev;
  return Months(ctx, &cur, &prev) && prev->close > prev->open;
}
Result<bool> AbovePreviousClose(const Evidence& e, const Context& ctx) {
  const RangeData *cur, *prev;
  return Months(ctx, &cur, &prev) && e.exact > prev->close;
}
Result<bool> AboveCurrentOpen(const Evidence& e, const Context& ctx) {
  const RangeData *cur, *prev;
  return Months(ctx, &cur, &prev) && e.exact > cur->open;
}
Result<bool> AbovePreviousHigh(const Evidence& e, const Context& ctx) {
  const RangeData *cur, *prev;
  return Months(ctx, &cur, &prev) && e.exact > prev->high;
}

inline void Extend(RangeData& r, Decimal price) {
  if (price > r.high) r.high = price;
  if (price < r.low) r.low = price;
  r.close = price;
}

}  // namespace

MonthlyBreakoutModel::MonthlyBreakoutModel() : context_(std::make_unique<Context>(1, "monthly ranges")) {
  root_ = context_->AddNode(causal::Node{causal::NodeKind::kRoot, {}});
  const Context* ctx = context_.get();
  model_ = causal::Causaloid::Collection(
      42,
      {causal::Causaloid::Contextual(1, PreviousMonthClosedUp, ctx, "previous month closed above its open"),
       causal::Causaloid::Contextual(2, AbovePreviousClose, ctx, "price above the previous month's close"),
       causal::Causaloid::Contextual(3, AboveCurrentOpen, ctx, "price above the current month's open"),
       causal::Causaloid::Contextual(4, AbovePreviousHigh, ctx, "price above the previous month's high")},
      causal::Aggregation::kAll, "monthly long breakout");
}

// A new month (and maybe year): new time and data nodes, related to their
// parents and predecessors; the time index advances.
Status MonthlyBreakoutModel::Roll(UnixNanos time, Decimal price) {
  Context& ctx = *context_;
  const RangeData fresh{price, price, price, price};
  if (time >= year_end_) {
    year_start_ = BucketStart(time, TimeResolution::kOneYear);
    year_end_ = NextBucketStart(time, TimeResolution::kOneYear);
    const auto t = ctx.AddNode(causal::Node{causal::NodeKind::kTime, causal::TimeData{year_start_, TimeScale::kYear}});
    year_node_ = ctx.AddNode(causal::Node{causal::NodeKind::kData, fresh});
    TICKFLOW_RETURN_IF_ERROR(ctx.Relate(causal::RelationKind::kHierarchical, std::vector<causal::NodeIndex>{root_, t}));
    TICKFLOW_RETURN_IF_ERROR(ctx.Relate(causal::RelationKind::kData, std::vector<causal::NodeIndex>{t, year_node_}));
    TICKFLOW_RETURN_IF_ERROR(ctx.Advance(TimeScale::kYear, year_node_));
  }
  const UnixNanos start = BucketStart(time, TimeResolution::kOneMonth);
  const bool contiguous = months_ > 0 && month_end_ == start;
  const auto t = ctx.AddNode(causal::Node{causal::NodeKind::kTime, causal::TimeData{start, TimeScale::kMonth}});
  const auto data = ctx.AddNode(causal::Node{causal::NodeKind::kData, fresh});
  TICKFLOW_RETURN_IF_ERROR(ctx.Relate(causal::RelationKind::kData, std::vector<causal::NodeIndex>{t, data}));
  TICKFLOW_RETURN_IF_ERROR(ctx.Relate(causal::RelationKind::kHierarchical, std::vector<causal::NodeIndex>{year_node_, data}));
  if (contiguous) {
    TICKFLOW_RETURN_IF_ERROR(ctx.Relate(causal::RelationKind::kTemporal, std::vector<causal::NodeIndex>{month_node_, data}));
    TICKFLOW_RETURN_IF_ERROR(ctx.Advance(TimeScale::kMonth, data));
    previous_month_start_ = month_start_;
  } else {
    // First month, or the calendar month before had no trades: no previous month.
    TICKFLOW_RETURN_IF_ERROR(ctx.SetTimeIndex(TimeScale::kMonth, data, std::nullopt));
    previous_month_start_ = UnixNanos::Min();
  }
  month_node_ = data;
  month_start_ = start;
  month_end_ = NextBucketStart(time, TimeResolution::kOneMonth);
  ++months_;
  // Node storage may have moved: refresh the in-place pointers.
  TICKFLOW_ASSIGN_OR_RETURN(month_, ctx.GetMutable<RangeData>(month_node_));
  TICKFLOW_ASSIGN_OR_RETURN(year_, ctx.GetMutable<RangeData>(year_node_));
  const auto prev = ctx.Previous(TimeScale::kMonth);
  previous_ = prev ? ctx.Find<RangeData>(*prev) : nullptr;
  return {};
}

Result<bool> MonthlyBreakoutModel::OnTrade(UnixNanos time, Decimal price) {
  if (time < last_time_) {
    return MakeError(ErrorCode::kInvalidArgument, "trade at " + FormatIso8601(time) + " is earlier than the previous one at " +
                                                      FormatIso8601(last_time_));
  }
  last_time_ = time;
  if (time >= month_end_) {
    TICKFLOW_RETURN_IF_ERROR(Roll(time, price));
  } else {
    Extend(*month_, price);
    Extend(*year_, price);
  }
  // The model's checks read the exact price only; the double (a division, a
  // twentieth of a trade's backtest) is filled in for an explanation.
  last_evidence_ = causal::Evidence{0, price, time};
  return model_.Evaluate(last_evidence_);
}

Detection MonthlyBreakoutModel::last() const {
  Detection d;
  d.time = last_evidence_.time;
  d.price = last_evidence_.exact;
  d.current_month = month_start_;
  d.previous_month = previous_month_start_;
  if (month_ != nullptr) d.current = *month_;
  if (const auto prev = context_->Previous(TimeScale::kMonth)) {
    if (auto p = context_->Get<RangeData>(*prev); p.ok()) d.previous = **p;
  }
  return d;
}

Result<bool> MonthlyBreakoutModel::Explain(causal::Explanation* why) const {
  causal::Evidence e = last_evidence_;
  e.value = e.exact.ToDouble();
  return model_.Evaluate(e, why);
}

}  // namespace tickflow::models
