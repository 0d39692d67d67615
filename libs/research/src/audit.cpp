#include "tickflow/research/audit.hpp"

#include <algorithm>

namespace tickflow::research {
namespace {

std::string OrderText(const backtest::OrderRequest& r) {
  std::string s = "order " + std::string(backtest::ToString(r.side)) + " " + std::string(backtest::ToString(r.type)) + " " +
                  r.quantity.ToString() + " of symbol " + std::to_string(r.symbol);
  if (r.type == backtest::OrderType::kLimit || r.type == backtest::OrderType::kStopLimit) s += " limit " + r.limit.ToString();
  if (r.type == backtest::OrderType::kStopMarket || r.type == backtest::OrderType::kStopLimit) s += " stop " + r.stop.ToString();
  if (r.tif != backtest::TimeInForce::kGoodTillCancel) s += " " + std::string(backtest::ToString(r.tif));
  if (r.post_only) s += " post-only";
  return s;
}

std::optional<AuditFinding> Compare(const std::vector<Decision>& shorter, const std::vector<Decision>& longer,
                                    UnixNanos end, std::size_t prefix, std::size_t* checked) {
  std::size_t i = 0;
  for (;; ++i) {
    const bool has_s = i < shorter.size() && shorter[i].time < end;
    const bool has_l = i < longer.size() && longer[i].time < end;
    if (!has_s && !has_l) break;
    if (has_s && has_l && shorter[i] == longer[i]) continue;
    AuditFinding f;
    f.prefix = prefix;
    f.prefix_end = end;
    f.decision = i;
    if (has_s) f.shorter = shorter[i];
    if (has_l) f.longer = longer[i];
    return f;
  }
  *checked += i;
  return std::nullopt;
}

}  // namespace

std::vector<Decision> Decisions(const backtest::ModelRun& run) {
  std::vector<Decision> d;
  for (const auto& o : run.orders) d.push_back({o.placed, OrderText(o.request)});
  for (const auto& s : run.signals) {
    d.push_back({s.time, "signal '" + s.text + "' at " + s.price.ToString() + " on symbol " + std::to_string(s.symbol)});
  }
  std::stable_sort(d.begin(), d.end(), [](const Decision& a, const Decision& b) {
    if (a.time != b.time) return a.time < b.time;
    return a.what.rfind("order", 0) == 0 && b.what.rfind("order", 0) != 0;
  });
  return d;
}

std::string AuditFinding::Describe() const {
  const auto side = [](const std::optional<Decision>& d) {
    return d ? d->what + " at " + FormatIso8601(d->time) : std::string("nothing");
  };
  if (prefix == 0) return "decision " + std::to_string(decision + 1) + " differs between two identical runs: " +
                          side(shorter) + " vs " + side(longer);
  return "look-ahead: decision " + std::to_string(decision + 1) + " differs between the run on the data before " +
         FormatIso8601(prefix_end) + " (prefix " + std::to_string(prefix) + ") and the run on all data: " + side(shorter) +
         " vs " + side(longer);
}

AuditReport Audit(const backtest::ModelRun& full, const backtest::ModelRun& rerun,
                  const std::vector<backtest::ModelRun>& prefixes, const std::vector<UnixNanos>& ends) {
  AuditReport r;
  r.prefixes = prefixes.size();
  const std::vector<Decision> all = Decisions(full), again = Decisions(rerun);
  r.nondeterminism = Compare(all, again, UnixNanos::Max(), 0, &r.decisions_checked);
  r.deterministic_outputs = full.metrics.ToJson() == rerun.metrics.ToJson() && full.fills.size() == rerun.fills.size() &&
                            std::equal(full.fills.begin(), full.fills.end(), rerun.fills.begin(), [](const auto& a, const auto& b) {
                              return a.order == b.order && a.time == b.time && a.price.SameRepresentation(b.price) &&
                                     a.quantity == b.quantity && a.fee == b.fee;
                            });
  for (std::size_t k = 0; k < prefixes.size() && k < ends.size() && !r.look_ahead; ++k) {
    r.look_ahead = Compare(Decisions(prefixes[k]), all, ends[k], k + 1, &r.decisions_checked);
  }
  return r;
}

}  // namespace tickflow::research
