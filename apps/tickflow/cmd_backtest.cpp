// tickflow backtest: a strategy against the virtual exchange, fed by trades
// replayed through the gateway; metrics, JSON and an HTML report.
#include <chrono>
#include <fstream>
#include <map>

#include "common.hpp"
#include "replay_session.hpp"
#include "tickflow/backtest/backtest.hpp"
#include "tickflow/backtest/strategies.hpp"

namespace tickflow::cli {
namespace {

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return MakeError(ErrorCode::kIo, "cannot write " + path);
  return {};
}

}  // namespace

Command AddBacktest(CLI::App& app) {
  auto* cmd = app.add_subcommand("backtest", "Backtest a strategy on replayed trades against a virtual exchange");
  cmd->footer(
      "Trades are replayed through the gateway to a client that drives the strategy. Orders fill on later trades\n"
      "only (market: next trades' prices; limit: at the limit when a trade reaches it), bounded by traded\n"
      "volume, with Kraken's maker/taker fees by 30-day volume. See docs/backtest.md.\n"
      "Strategies: breakout (trades the monthly breakout causal model's detections), sma-cross (10/30 bars).\n\n"
      "Example: tickflow backtest --strategy breakout --symbol XBTUSD --out report.html --json metrics.json");
  struct Args {
    std::string strategy = "breakout", from, to, res = "1d", out, json, db;
    std::vector<std::string> symbols;
    double cash = 100000;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--strategy", a->strategy, "breakout or sma-cross")
      ->check(CLI::IsMember({"breakout", "sma-cross"}))
      ->capture_default_str();
  cmd->add_option("--symbol", a->symbols, "Symbol to trade (repeat for several)")->required();
  cmd->add_option("--from", a->from, "Start time, inclusive");
  cmd->add_option("--to", a->to, "End time, exclusive");
  cmd->add_option("--res", a->res, "Bar resolution for the strategy's bars and the report's candles")
      ->capture_default_str();
  cmd->add_option("--cash", a->cash, "Initial cash (quote currency)")->capture_default_str();
  cmd->add_option("--out", a->out, "Write the HTML report here");
  cmd->add_option("--json", a->json, "Write the metrics as JSON here");
  AddDbOption(cmd, &a->db);
  return {cmd, [a] {
            auto res = ParseResolution(a->res);
            if (!res.ok()) return Fail("--res: " + res.error().message);
            auto range = ParseRange(a->from, a->to);
            if (!range.ok()) return Fail(range.error());
            if (!(a->cash > 0)) return Fail("--cash must be positive");
            auto store = OpenExistingStore(a->db);
            if (!store.ok()) return Fail(store.error());
            auto resolved = ResolveSymbols(**store, a->symbols);
            if (!resolved.ok()) return Fail(resolved.error());
            std::map<SymbolId, std::string> names;
            for (SymbolId id : resolved->ids) names[id] = resolved->names[id];

            std::unique_ptr<backtest::Strategy> strategy;
            if (a->strategy == "breakout") {
              strategy = std::make_unique<backtest::BreakoutStrategy>();
            } else {
              strategy = std::make_unique<backtest::SmaCrossStrategy>();
            }
            backtest::Backtester bt(*strategy, {.initial_cash = a->cash, .bar_resolution = *res});
            auto session = ReplaySession::Start(a->db);
            if (!session.ok()) return Fail(session.error());
            Status failure;
            std::string stream_errors;
            client::Callbacks cb;
            cb.on_error = [&](const client::StreamError& e) {
              if (stream_errors.empty()) stream_errors = std::string(" after DataError ") + sbe::ToString(e.code);
            };
            cb.on_trade = [&](const client::TradeEvent& e) {
              if (failure.ok()) {
                if (Status s = bt.OnTrade(e.trade); !s.ok()) failure = std::move(s);
              }
            };
            const auto t0 = std::chrono::steady_clock::now();
            auto stream = session->client->RequestTrades({.symbols = resolved->ids, .from = range->from, .to = range->to}, cb);
            if (!stream.ok()) return Fail(stream.error());
            auto end = (*stream)->Wait(std::chrono::hours(24));
            if (!end.ok()) return Fail(end.error());
            if (!failure.ok()) return Fail(failure.error());
            if (end->reason != sbe::StreamEndReason::kCompleted) {
              return Fail(fmt::format("the replay of {} ended {}{} after {} of the trades it sent{}; no results, "
                                      "they would cover only part of the range",
                                      fmt::join(a->symbols, ", "), sbe::ToString(end->reason), stream_errors,
                                      Thousands(end->received), session->Cause()));
            }
            if (end->missing != 0) return Fail("the replay lost messages; the backtest would be wrong");
            if (end->received == 0) {
              return Fail(fmt::format("no trades of {} in [{}, {}): nothing to backtest (`tickflow symbols` shows "
                                      "each market's first and last trade)",
                                      fmt::join(a->symbols, ", "), FormatIso8601(range->from), FormatIso8601(range->to)));
            }
            const backtest::Results r = bt.Finish();
            const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            const auto& m = r.metrics;
            fmt::print("backtest {} on {}: {} trades in {:.2f} s ({}events/s)\n", strategy->name(),
                       fmt::join(a->symbols, ", "), Thousands(m.events), secs,
                       Rate(static_cast<double>(m.events) / secs));
            fmt::print("  period        {} .. {}\n", FormatIso8601(m.first), FormatIso8601(m.last));
            fmt::print("  equity        {:.2f} -> {:.2f}  (total return {:+.2f} %, CAGR {:+.2f} %)\n", m.initial_equity,
                       m.final_equity, m.total_return * 100, m.cagr * 100);
            fmt::print("  risk          Sharpe {:.2f}, Sortino {:.2f}, max drawdown {:.2f} %\n", m.sharpe, m.sortino,
                       m.max_drawdown * 100);
            fmt::print("  trading       {} round trips, win rate {:.1f} %, {} fills, fees {:.2f}, exposure {:.1f} %\n",
                       m.round_trips, m.win_rate * 100, m.fills, m.fees_paid, m.exposure * 100);
            if (!a->json.empty()) {
              if (auto s = WriteFile(a->json, m.ToJson()); !s.ok()) return Fail(s.error());
              fmt::print("  metrics       {}\n", a->json);
            }
            if (!a->out.empty()) {
              const std::string title = "tickflow backtest: " + strategy->name() + " on " +
                                        fmt::format("{}", fmt::join(a->symbols, ", "));
              if (auto s = WriteFile(a->out, backtest::HtmlReport(r, title, names)); !s.ok()) return Fail(s.error());
              fmt::print("  report        {}\n", a->out);
            }
            return 0;
          }};
}

}  // namespace tickflow::cli
