#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tickflow/backtest/backtest.hpp"

namespace tickflow::backtest {

Metrics ComputeMetrics(const std::vector<EquityPoint>& equity, const std::vector<RoundTrip>& trips, std::uint64_t events) {
  Metrics m;
  m.events = events;
  m.round_trips = trips.size();
  // Round trips, in the base currency at each close's rate.
  if (!trips.empty()) {
    std::uint64_t wins = 0, losses = 0;
    Amount won, lost, total;
    for (const RoundTrip& t : trips) {
      (void)Amount::Add(total, t.pnl_base, &total);
      if (t.pnl_base > Amount()) ++wins, (void)Amount::Add(won, t.pnl_base, &won);
      if (t.pnl_base < Amount()) ++losses, (void)Amount::Add(lost, t.pnl_base, &lost);
    }
    m.win_rate = static_cast<double>(wins) / static_cast<double>(trips.size());
    if (!lost.IsZero()) m.profit_factor = won.ToDouble() / -lost.ToDouble();
    const auto mean = [](Amount sum, std::uint64_t n) {
      Amount out;
      (void)Amount::Div(sum, Amount::FromInt(static_cast<std::int64_t>(n)), 8, Rounding::kHalfEven, &out);
      return out;
    };
    m.expectancy = mean(total, trips.size());
    if (wins > 0) m.average_win = mean(won, wins);
    if (losses > 0) m.average_loss = mean(lost, losses);
  }
  if (equity.empty()) return m;
  m.first = equity.front().time;
  m.last = equity.back().time;
  m.initial_equity = equity.front().equity;
  m.final_equity = equity.back().equity;
  // Per-period returns; annualised by the mean spacing of the equity points.
  std::vector<double> r;
  double peak = equity.front().equity.ToDouble(), exposure = 0;
  for (std::size_t i = 0; i < equity.size(); ++i) {
    const double e = equity[i].equity.ToDouble();
    if (e > 0) exposure += std::clamp(equity[i].exposure.ToDouble() / e, 0.0, 1.0);
    if (i == 0) continue;
    const double prev = equity[i - 1].equity.ToDouble();
    if (prev > 0) r.push_back(e / prev - 1);
    peak = std::max(peak, e);
    if (peak > 0) m.max_drawdown = std::max(m.max_drawdown, (peak - e) / peak);
  }
  m.exposure = exposure / static_cast<double>(equity.size());
  const double first = m.initial_equity.ToDouble(), last = m.final_equity.ToDouble();
  if (first > 0) m.total_return = last / first - 1;
  const double span_years = static_cast<double>(m.last.ns - m.first.ns) / (365.25 * 86400e9);
  if (span_years > 0 && first > 0 && last > 0) m.cagr = std::pow(last / first, 1 / span_years) - 1;
  if (r.size() >= 2 && span_years > 0) {
    const double periods_per_year = static_cast<double>(equity.size() - 1) / span_years;
    double mean = 0;
    for (double x : r) mean += x;
    mean /= static_cast<double>(r.size());
    double var = 0, down = 0;
    for (double x : r) {
      var += (x - mean) * (x - mean);
      down += x < 0 ? x * x : 0;
    }
    const double sd = std::sqrt(var / static_cast<double>(r.size() - 1));
    const double dd = std::sqrt(down / static_cast<double>(r.size()));
    m.volatility = sd * std::sqrt(periods_per_year);
    if (sd > 0) m.sharpe = mean / sd * std::sqrt(periods_per_year);
    if (dd > 0) m.sortino = mean / dd * std::sqrt(periods_per_year);
  }
  if (m.cagr && m.max_drawdown > 0) m.calmar = *m.cagr / m.max_drawdown;
  return m;
}

namespace {
std::string Number(const std::optional<double>& v, int digits) {
  if (!v || !std::isfinite(*v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, *v);
  return buf;
}
std::string Quoted(const std::string& s) { return "\"" + s + "\""; }
std::string Money(const std::optional<Amount>& a) { return a ? Quoted(a->ToString()) : "null"; }
}  // namespace

std::string Metrics::ToJson(int indent) const {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  std::string fees = "{";
  for (const auto& [c, a] : fees_by_currency) fees += (fees.size() > 1 ? ", " : "") + Quoted(c) + ": " + Quoted(a.ToString());
  fees += "}";
  const std::pair<const char*, std::string> rows[] = {
      {"initial_equity", Money(initial_equity)},
      {"final_equity", Money(final_equity)},
      {"total_return", Number(total_return, 6)},
      {"cagr", Number(cagr, 6)},
      {"sharpe", Number(sharpe, 4)},
      {"sortino", Number(sortino, 4)},
      {"volatility", Number(volatility, 6)},
      {"max_drawdown", Number(max_drawdown, 6)},
      {"calmar", Number(calmar, 4)},
      {"win_rate", Number(win_rate, 4)},
      {"profit_factor", Number(profit_factor, 4)},
      {"expectancy", Money(expectancy)},
      {"average_win", Money(average_win)},
      {"average_loss", Money(average_loss)},
      {"trades", std::to_string(round_trips)},
      {"fills", std::to_string(fills)},
      {"orders", std::to_string(orders)},
      {"rejected", std::to_string(rejected)},
      {"fees_paid", Money(fees_paid)},
      {"fees_by_currency", fees},
      {"exposure", Number(exposure, 4)},
      {"events", std::to_string(events)},
      {"first", Quoted(FormatIso8601(first))},
      {"last", Quoted(FormatIso8601(last))},
  };
  std::string out = "{\n";
  for (std::size_t i = 0; i < std::size(rows); ++i) {
    out += pad + "  \"" + rows[i].first + "\": " + rows[i].second + (i + 1 < std::size(rows) ? ",\n" : "\n");
  }
  return out + pad + "}";
}

}  // namespace tickflow::backtest
