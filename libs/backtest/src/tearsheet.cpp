#include <algorithm>
#include <cmath>

#include "tickflow/backtest/outputs.hpp"

namespace tickflow::backtest {
namespace {

constexpr std::int64_t kRollingSpanNs = 90 * kNanosPerDay;  // rolling Sharpe and volatility over ~3 months
constexpr std::size_t kHistogramBins = 20;

struct Month {
  std::int64_t year;
  int month;
  bool operator!=(const Month& o) const { return year != o.year || month != o.month; }
};
Month MonthOf(UnixNanos t) {
  const CivilDate d = CivilFromDays(DaysSinceEpoch(t));
  return {d.year, d.month};
}

// Returns between the last equity of consecutive calendar periods (months, or
// years with month 0), the first period measured from the curve's first point.
std::vector<Tearsheet::PeriodReturn> PeriodReturns(const std::vector<EquityPoint>& eq, bool yearly) {
  std::vector<Tearsheet::PeriodReturn> out;
  if (eq.empty()) return out;
  double start = eq.front().equity.ToDouble();
  Month current = MonthOf(eq.front().time);
  if (yearly) current.month = 0;
  double last = start;
  const auto close = [&] {
    if (start > 0) out.push_back({current.year, current.month, last / start - 1});
    start = last;
  };
  for (const EquityPoint& p : eq) {
    Month m = MonthOf(p.time);
    if (yearly) m.month = 0;
    if (m != current) {
      close();
      current = m;
    }
    last = p.equity.ToDouble();
  }
  close();
  return out;
}

}  // namespace

Tearsheet Analyze(const ModelRun& run) {
  Tearsheet t;
  const auto& eq = run.equity;
  t.monthly = PeriodReturns(eq, false);
  t.yearly = PeriodReturns(eq, true);
  // Rolling Sharpe and volatility: running sums over the last `window` period returns.
  if (eq.size() > 2) {
    const double span_ns = static_cast<double>(eq.back().time.ns - eq.front().time.ns);
    const double spacing = span_ns / static_cast<double>(eq.size() - 1);
    const double per_year = spacing > 0 ? 365.25 * 86400e9 / spacing : 0;
    t.rolling_window = std::max<std::size_t>(5, spacing > 0 ? static_cast<std::size_t>(kRollingSpanNs / spacing) : 5);
    std::vector<double> r;
    for (std::size_t i = 1; i < eq.size(); ++i) {
      const double a = eq[i - 1].equity.ToDouble(), b = eq[i].equity.ToDouble();
      r.push_back(a > 0 ? b / a - 1 : 0);
    }
    double sum = 0, sq = 0;
    for (std::size_t i = 0; i < r.size(); ++i) {
      sum += r[i];
      sq += r[i] * r[i];
      if (i >= t.rolling_window) {
        sum -= r[i - t.rolling_window];
        sq -= r[i - t.rolling_window] * r[i - t.rolling_window];
      }
      if (i + 1 < t.rolling_window) continue;
      const double n = static_cast<double>(t.rolling_window);
      const double mean = sum / n, var = std::max(0.0, (sq - n * mean * mean) / (n - 1));
      const double sd = std::sqrt(var);
      t.rolling_volatility.push_back({eq[i + 1].time, sd * std::sqrt(per_year)});
      t.rolling_sharpe.push_back({eq[i + 1].time, sd > 1e-15 ? mean / sd * std::sqrt(per_year) : 0});
    }
  }
  for (const EquityPoint& p : eq) {
    const double e = p.equity.ToDouble();
    t.exposure.push_back({p.time, e > 0 ? std::clamp(p.exposure.ToDouble() / e, 0.0, 1.0) : 0});
  }
  // Drawdown periods: from a peak, through the trough, to the first point back at the peak.
  std::vector<Tearsheet::DrawdownPeriod> periods;
  if (!eq.empty()) {
    double peak = eq.front().equity.ToDouble(), trough = peak;
    UnixNanos peak_t = eq.front().time, trough_t = peak_t;
    bool in = false;
    for (const EquityPoint& p : eq) {
      const double e = p.equity.ToDouble();
      if (e >= peak) {
        if (in && peak > 0) periods.push_back({peak_t, trough_t, p.time, (peak - trough) / peak});
        in = false;
        peak = trough = e;
        peak_t = trough_t = p.time;
      } else {
        in = true;
        if (e < trough) trough = e, trough_t = p.time;
      }
    }
    if (in && peak > 0) periods.push_back({peak_t, trough_t, UnixNanos::Max(), (peak - trough) / peak});
  }
  std::stable_sort(periods.begin(), periods.end(), [](const auto& a, const auto& b) { return a.depth > b.depth; });
  periods.resize(std::min<std::size_t>(5, periods.size()));
  t.worst_drawdowns = std::move(periods);
  // Per symbol: round trips and fills.
  std::map<SymbolId, Tearsheet::SymbolAttribution> by;
  for (const RoundTrip& rt : run.round_trips) {
    auto& a = by[rt.symbol];
    a.symbol = rt.symbol;
    ++a.trips;
    a.wins += rt.pnl_base > Amount();
    (void)Amount::Add(a.pnl_quote, rt.pnl, &a.pnl_quote);
    (void)Amount::Add(a.pnl_base, rt.pnl_base, &a.pnl_base);
    (void)Amount::Add(a.fees_quote, rt.fees_quote, &a.fees_quote);
  }
  for (const Fill& f : run.fills) {
    auto& a = by[f.symbol];
    a.symbol = f.symbol;
    ++a.fills;
  }
  for (auto& [id, a] : by) t.by_symbol.push_back(a);
  // Trade PnL histogram.
  if (!run.round_trips.empty()) {
    double lo = 1e300, hi = -1e300;
    for (const RoundTrip& rt : run.round_trips) {
      lo = std::min(lo, rt.pnl_base.ToDouble());
      hi = std::max(hi, rt.pnl_base.ToDouble());
    }
    if (!(hi > lo)) hi = lo + 1;
    const double w = (hi - lo) / kHistogramBins;
    for (std::size_t i = 0; i <= kHistogramBins; ++i) t.pnl_edges.push_back(lo + w * static_cast<double>(i));
    t.pnl_counts.assign(kHistogramBins, 0);
    for (const RoundTrip& rt : run.round_trips) {
      const auto bin = static_cast<std::size_t>((rt.pnl_base.ToDouble() - lo) / w);
      ++t.pnl_counts[std::min(bin, kHistogramBins - 1)];
    }
  }
  return t;
}

std::vector<EquityPoint> Downsample(const std::vector<EquityPoint>& curve, std::size_t points) {
  const std::size_t buckets = std::max<std::size_t>(1, points / 4);
  if (curve.size() <= points) return curve;
  std::vector<EquityPoint> out;
  const std::size_t per = (curve.size() + buckets - 1) / buckets;
  for (std::size_t start = 0; start < curve.size(); start += per) {
    const std::size_t end = std::min(curve.size(), start + per);
    std::size_t lo = start, hi = start;
    for (std::size_t i = start; i < end; ++i) {
      if (curve[i].equity < curve[lo].equity) lo = i;
      if (curve[i].equity > curve[hi].equity) hi = i;
    }
    std::size_t keep[] = {start, std::min(lo, hi), std::max(lo, hi), end - 1};
    for (std::size_t k = 0; k < 4; ++k) {
      if (out.empty() || out.back().time < curve[keep[k]].time) out.push_back(curve[keep[k]]);
    }
  }
  return out;
}

}  // namespace tickflow::backtest
