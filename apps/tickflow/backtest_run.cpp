#include "backtest_run.hpp"

#include <algorithm>
#include <fstream>
#include <optional>

#include "common.hpp"
#include "tickflow/store/symbol_patterns.hpp"

namespace tickflow::cli {
namespace {

std::string Describe(const std::optional<double>& v, double scale, const char* unit) {
  return v ? fmt::format("{:+.2f}{}", *v * scale, unit) : std::string("n/a");
}

}  // namespace

void AddStrategyOption(CLI::App* cmd, std::string* strategy, const std::string& help) {
  std::vector<std::string> names;
  for (const auto& s : backtest::BuiltinStrategies()) names.push_back(s.name);
  cmd->add_option("--strategy", *strategy, help)->check(CLI::IsMember(names))->capture_default_str();
}

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return MakeError(ErrorCode::kIo, "cannot write " + path);
  fmt::print("  wrote         {}\n", path);
  return {};
}

void PrintBacktest(const BacktestOutcome& o) {
  const backtest::Results& r = o.results;
  const auto& m = r.main().metrics;
  fmt::print("backtest {} on {}: {} trades in {:.2f} s ({}events/s), {} models in one pass\n", o.config.strategy,
             store::DescribeSymbols(o.config.symbols), Thousands(m.events), o.seconds,
             Rate(static_cast<double>(m.events) / o.seconds), r.runs.size());
  fmt::print("  period        {} .. {}\n", FormatIso8601(m.first), FormatIso8601(m.last));
  fmt::print("  {:<13} {:>14} {:>10} {:>8} {:>9} {:>7} {:>7} {:>12}\n", "model", "final equity", "return", "Sharpe",
             "max DD", "trips", "fills", "fees");
  const auto line = [&](const std::string& name, const backtest::Metrics& x, bool trading) {
    fmt::print("  {:<13} {:>14} {:>10} {:>8} {:>8.2f}% {:>7} {:>7} {:>12}\n", name, x.final_equity.ToFixed(2),
               Describe(x.total_return, 100, "%"), x.sharpe ? fmt::format("{:.2f}", *x.sharpe) : "n/a",
               x.max_drawdown * 100, trading ? std::to_string(x.round_trips) : "-",
               trading ? std::to_string(x.fills) : "-", trading ? x.fees_paid.ToFixed(2) : "-");
  };
  for (const auto& run : r.runs) line(run.model.name, run.metrics, true);
  line("buy and hold", r.benchmark_metrics, false);
  if (r.runs.size() > 1) {
    double lo = 1e300, hi = -1e300;
    for (const auto& run : r.runs) {
      if (!run.metrics.total_return) continue;
      lo = std::min(lo, *run.metrics.total_return);
      hi = std::max(hi, *run.metrics.total_return);
    }
    if (hi >= lo) {
      fmt::print("  band          return {:+.2f} % .. {:+.2f} % across the models: that much of the result "
                 "depends on how fills are modelled\n",
                 lo * 100, hi * 100);
    }
  }
  if (m.rejected > 0) fmt::print("  rejected      {} of {} orders (see --orders for the reasons)\n", m.rejected, m.orders);
  for (const auto& [c, path] : r.conversion_paths) {
    std::vector<std::string> hops;
    for (SymbolId id : path) hops.push_back(backtest::NameOf(o.names, id));
    const auto age = r.max_rate_age_seconds.find(c);
    fmt::print("  valued        {} in {} via {}{}\n", c, o.config.base_currency, fmt::join(hops, " -> "),
               age == r.max_rate_age_seconds.end() ? "" : fmt::format(" (oldest rate used {:.0f} s)", age->second));
  }
}

}  // namespace tickflow::cli
