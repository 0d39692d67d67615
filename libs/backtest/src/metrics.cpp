#include <cmath>
#include <cstdio>

#include "tickflow/backtest/backtest.hpp"

namespace tickflow::backtest {

Metrics ComputeMetrics(const std::vector<EquityPoint>& equity, const std::vector<RoundTrip>& trips,
                       const std::vector<Fill>& fills, double exposure, std::uint64_t events) {
  Metrics m;
  m.events = events;
  m.fills = fills.size();
  m.round_trips = trips.size();
  m.exposure = exposure;
  for (const Fill& f : fills) m.fees_paid += f.fee;
  std::uint64_t wins = 0;
  for (const RoundTrip& t : trips) wins += t.pnl > 0;
  m.win_rate = trips.empty() ? 0 : static_cast<double>(wins) / static_cast<double>(trips.size());
  if (equity.size() < 2) {
    if (!equity.empty()) m.final_equity = equity.back().equity;
    return m;
  }
  m.first = equity.front().time;
  m.last = equity.back().time;
  m.final_equity = equity.back().equity;
  // Per-period returns; annualised by the mean spacing of the equity points.
  std::vector<double> r;
  double peak = equity.front().equity;
  for (std::size_t i = 1; i < equity.size(); ++i) {
    if (equity[i - 1].equity != 0) r.push_back(equity[i].equity / equity[i - 1].equity - 1);
    peak = std::max(peak, equity[i].equity);
    if (peak > 0) m.max_drawdown = std::max(m.max_drawdown, (peak - equity[i].equity) / peak);
  }
  const double span_years = static_cast<double>(m.last.ns - m.first.ns) / (365.25 * 86400e9);
  const double periods_per_year = span_years > 0 ? static_cast<double>(equity.size() - 1) / span_years : 0;
  double mean = 0;
  for (double x : r) mean += x;
  mean /= static_cast<double>(std::max<std::size_t>(1, r.size()));
  double var = 0, down = 0;
  for (double x : r) {
    var += (x - mean) * (x - mean);
    down += x < 0 ? x * x : 0;
  }
  const double sd = r.size() > 1 ? std::sqrt(var / static_cast<double>(r.size() - 1)) : 0;
  const double dd = r.empty() ? 0 : std::sqrt(down / static_cast<double>(r.size()));
  m.sharpe = sd > 0 ? mean / sd * std::sqrt(periods_per_year) : 0;
  m.sortino = dd > 0 ? mean / dd * std::sqrt(periods_per_year) : 0;
  const double first_equity = equity.front().equity;
  m.total_return = first_equity != 0 ? m.final_equity / first_equity - 1 : 0;
  m.cagr = span_years > 0 && first_equity > 0 && m.final_equity > 0
               ? std::pow(m.final_equity / first_equity, 1 / span_years) - 1
               : 0;
  return m;
}

std::string Metrics::ToJson() const {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "{\n  \"initial_equity\": %.2f,\n  \"final_equity\": %.2f,\n  \"total_return\": %.6f,\n"
                "  \"cagr\": %.6f,\n  \"sharpe\": %.4f,\n  \"sortino\": %.4f,\n  \"max_drawdown\": %.6f,\n"
                "  \"win_rate\": %.4f,\n  \"trades\": %llu,\n  \"fills\": %llu,\n  \"fees_paid\": %.2f,\n"
                "  \"exposure\": %.4f,\n  \"events\": %llu,\n  \"first\": \"%s\",\n  \"last\": \"%s\"\n}\n",
                initial_equity, final_equity, total_return, cagr, sharpe, sortino, max_drawdown, win_rate,
                static_cast<unsigned long long>(round_trips), static_cast<unsigned long long>(fills), fees_paid,
                exposure, static_cast<unsigned long long>(events), FormatIso8601(first).c_str(),
                FormatIso8601(last).c_str());
  return buf;
}

}  // namespace tickflow::backtest
