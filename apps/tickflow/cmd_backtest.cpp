// tickflow backtest: a strategy against the virtual exchange, fed by trades
// replayed through the gateway; every execution model in one pass; metrics,
// CSV, JSON and an HTML tearsheet.
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "backtest_run.hpp"
#include "common.hpp"

namespace tickflow::cli {
namespace {


Result<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, std::string(what) + ": cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}


}  // namespace

Command AddBacktest(CLI::App& app) {
  auto* cmd = app.add_subcommand("backtest", "Backtest a strategy on replayed trades against a virtual exchange");
  std::string strategies;
  for (const auto& s : backtest::BuiltinStrategies()) {
    strategies += "  " + s.name + ": " + s.summary + "\n";
    for (const auto& p : s.params) {
      strategies += fmt::format("      --param {}={:<8} {}{}\n", p.name, p.default_value, p.help,
                                p.type == backtest::ParamType::kInteger ? " (integer)" : "");
    }
  }
  cmd->footer(
      "Trades are replayed through the gateway to a client that drives the strategy. Every execution model runs\n"
      "in the same pass, each with its own strategy and account, and the results are shown side by side:\n"
      "  conservative  a resting limit fills when trades go through it by a tick, or at its price once the volume\n"
      "                queued ahead of it has traded; only trades from the other side reach it (tick rule);\n"
      "                market orders pay half the recent bid-ask bounce (the headline model)\n"
      "  optimistic    a limit fills whenever a trade touches it, with that trade's whole volume\n"
      "  latency       conservative, with --latency / --latency-file / --md-latency delays (when given)\n"
      "Money is exact (decimal, never floating point); a balance per currency, valued in --base at the latest\n"
      "rate (conversion pairs are streamed too); Kraken's dated maker/taker fees by 30-day USD volume;\n"
      "Kraken's tick, lot and minimum order for the majors. See docs/backtest.md.\n\n"
      "Strategies and their parameters:\n" +
      strategies +
      "\nExamples:\n"
      "  tickflow backtest --strategy breakout --symbol XBTUSD --out report.html --json metrics.json\n"
      "  tickflow backtest --strategy sma-cross --param fast=5 --param slow=20 --res 1h --symbol XBTEUR \\\n"
      "      --cash EUR:50000 --fills fills.csv --trips trips.csv --latency 50");
  struct Args {
    std::string strategy = "breakout", from, to, res = "1d", out, json, db, base = "USD";
    std::string fills, orders, trips, fees_file, instruments_file, latency_file, headline = "conservative";
    std::vector<std::string> symbols, params, cash;
    double latency_ms = 0, md_latency_ms = 0;
    bool fee_in_base = false;
  };
  auto a = std::make_shared<Args>();
  AddStrategyOption(cmd, &a->strategy, "Strategy to run (listed below)");
  cmd->add_option("--param", a->params, "Strategy parameter NAME=VALUE (repeat; listed below)");
  cmd->add_option("--symbol", a->symbols, "Symbol to trade, or a glob such as '*USD' (repeat for several)")->required();
  cmd->add_option("--from", a->from, "Start time, inclusive");
  cmd->add_option("--to", a->to, "End time, exclusive");
  cmd->add_option("--res", a->res, "Bar resolution: the strategy's bars, equity points and the report's candles")
      ->capture_default_str();
  cmd->add_option("--cash", a->cash, "Initial balance: AMOUNT (of --base) or CURRENCY:AMOUNT (repeat); default 100000");
  cmd->add_option("--base", a->base, "Currency the account is valued in")->capture_default_str();
  cmd->add_option("--fees", a->fees_file, "Dated fee schedule CSV (from_date,min_30d_volume_usd,maker_%,taker_%)");
  cmd->add_flag("--fee-in-base", a->fee_in_base, "Pay fees in the base currency of each pair (Kraken's fcib)");
  cmd->add_option("--instruments", a->instruments_file, "Instrument rules CSV (symbol,tick_size,lot_size,min_order)");
  cmd->add_option("--latency", a->latency_ms, "Order-entry latency in ms for the latency model");
  cmd->add_option("--latency-file", a->latency_file, "Order-entry latencies in ms, one per line, drawn per order");
  cmd->add_option("--md-latency", a->md_latency_ms, "Market-data latency in ms for the latency model");
  cmd->add_option("--model", a->headline, "Headline model: conservative, optimistic or latency")->capture_default_str();
  cmd->add_option("--out", a->out, "Write the HTML tearsheet here");
  cmd->add_option("--json", a->json, "Write the metrics and the run's configuration as JSON here");
  cmd->add_option("--fills", a->fills, "Write every fill of every model as CSV here");
  cmd->add_option("--orders", a->orders, "Write every order of every model as CSV here");
  cmd->add_option("--trips", a->trips, "Write every round trip of every model as CSV here");
  AddDbOption(cmd, &a->db);
  return {cmd, [a] {
            auto res = ParseResolution(a->res);
            if (!res.ok()) return Fail("--res: " + res.error().message);
            auto range = ParseRange(a->from, a->to);
            if (!range.ok()) return Fail(range.error());
            const backtest::StrategyInfo* info = backtest::FindStrategy(a->strategy);
            auto params = BindParameters(*info, a->params);
            if (!params.ok()) return Fail(params.error());
            auto cash = ParseCash(a->cash, a->base);
            if (!cash.ok()) return Fail(cash.error());
            if (!(a->latency_ms >= 0 && a->latency_ms <= 3.6e6)) return Fail("--latency must be 0 .. 3600000 ms");
            if (!(a->md_latency_ms >= 0 && a->md_latency_ms <= 3.6e6)) return Fail("--md-latency must be 0 .. 3600000 ms");

            backtest::BacktestOptions options;
            options.base_currency = a->base;
            options.initial_cash = *cash;
            options.bar_resolution = *res;
            options.fee_in_base = a->fee_in_base;
            std::optional<backtest::FeeSchedule> fees;
            if (!a->fees_file.empty()) {
              auto text = ReadFile(a->fees_file, "--fees");
              if (!text.ok()) return Fail(text.error());
              auto parsed = backtest::FeeSchedule::Parse(*text, a->fees_file);
              if (!parsed.ok()) return Fail(parsed.error());
              fees = std::move(*parsed);
              options.fees = &*fees;
            }
            std::optional<backtest::InstrumentTable> table;
            if (!a->instruments_file.empty()) {
              auto text = ReadFile(a->instruments_file, "--instruments");
              if (!text.ok()) return Fail(text.error());
              auto parsed = backtest::InstrumentTable::Parse(*text, a->instruments_file);
              if (!parsed.ok()) return Fail(parsed.error());
              table = std::move(*parsed);
            }
            // Execution models: the headline first.
            backtest::ExecutionModel conservative{"conservative", backtest::FillRule::kConservative, {}};
            backtest::ExecutionModel optimistic{"optimistic", backtest::FillRule::kTouch, {}};
            backtest::ExecutionModel delayed{"latency", backtest::FillRule::kConservative, {}};
            delayed.latency.order_entry = std::chrono::nanoseconds(static_cast<std::int64_t>(a->latency_ms * 1e6));
            delayed.latency.market_data = std::chrono::nanoseconds(static_cast<std::int64_t>(a->md_latency_ms * 1e6));
            if (!a->latency_file.empty()) {
              auto text = ReadFile(a->latency_file, "--latency-file");
              if (!text.ok()) return Fail(text.error());
              auto samples = backtest::Latency::ParseSamples(*text, a->latency_file);
              if (!samples.ok()) return Fail(samples.error());
              delayed.latency.samples_ns = std::move(*samples);
            }
            options.models = {conservative, optimistic};
            if (!delayed.latency.IsZero()) options.models.push_back(delayed);
            auto headline = std::find_if(options.models.begin(), options.models.end(),
                                         [&](const auto& m) { return m.name == a->headline; });
            if (headline == options.models.end()) {
              return Fail("--model " + a->headline + ": not one of the models of this run (conservative, optimistic" +
                          std::string(delayed.latency.IsZero() ? "; latency needs --latency, --latency-file or --md-latency)" : ", latency)"));
            }
            std::rotate(options.models.begin(), headline, headline + 1);

            BacktestJob job;
            job.db = a->db;
            job.symbols = a->symbols;
            job.range = *range;
            job.strategy = info;
            job.params = *params;
            job.options = options;
            job.rules = table ? &*table : nullptr;
            job.config.resolution = a->res;
            if (!a->fees_file.empty()) job.config.fee_schedule = a->fees_file;
            auto outcome = RunBacktest(std::move(job));
            if (!outcome.ok()) return Fail(outcome.error());
            PrintBacktest(*outcome);
            const backtest::Results& r = outcome->results;
            const backtest::RunConfig& config = outcome->config;
            const backtest::SymbolNames& symbol_names = outcome->names;
            const std::pair<const std::string*, std::string> outputs[] = {
                {&a->json, backtest::ResultsJson(r, config, symbol_names)},
                {&a->fills, a->fills.empty() ? "" : backtest::FillsCsv(r, symbol_names)},
                {&a->orders, a->orders.empty() ? "" : backtest::OrdersCsv(r, symbol_names)},
                {&a->trips, a->trips.empty() ? "" : backtest::TripsCsv(r, symbol_names)},
                {&a->out, a->out.empty() ? "" : backtest::HtmlReport(r, config, symbol_names)},
            };
            for (const auto& [path, text] : outputs) {
              if (path->empty()) continue;
              if (auto s = WriteText(*path, text); !s.ok()) return Fail(s.error());
            }
            return 0;
          }};
}

}  // namespace tickflow::cli
