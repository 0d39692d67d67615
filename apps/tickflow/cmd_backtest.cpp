// tickflow backtest: a strategy against the virtual exchange, fed by trades
// replayed through the gateway; every execution model in one pass; metrics,
// CSV, JSON and an HTML tearsheet.
#include <chrono>
#include <deque>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common.hpp"
#include "replay_session.hpp"
#include "tickflow/backtest/backtest.hpp"
#include "tickflow/backtest/outputs.hpp"
#include "tickflow/backtest/strategies.hpp"
#include "tickflow/backtest/threaded.hpp"

namespace tickflow::cli {
namespace {

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return MakeError(ErrorCode::kIo, "cannot write " + path);
  return {};
}

Result<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, std::string(what) + ": cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// --cash 100000 (the base currency) or --cash EUR:50000.
Result<std::map<std::string, backtest::Amount>> ParseCash(const std::vector<std::string>& items, const std::string& base) {
  std::map<std::string, backtest::Amount> out;
  for (const std::string& item : items) {
    const std::size_t colon = item.find(':');
    const std::string currency = colon == std::string::npos ? base : item.substr(0, colon);
    const std::string value = colon == std::string::npos ? item : item.substr(colon + 1);
    auto a = backtest::Amount::Parse(value);
    if (!a.ok()) return MakeError(ErrorCode::kInvalidArgument, "--cash " + item + ": " + a.error().message);
    if (a->IsNegative()) return MakeError(ErrorCode::kInvalidArgument, "--cash " + item + ": must not be negative");
    if (currency.empty()) return MakeError(ErrorCode::kInvalidArgument, "--cash " + item + ": expected CURRENCY:AMOUNT");
    if (!out.emplace(currency, *a).second) {
      return MakeError(ErrorCode::kInvalidArgument, "--cash: " + currency + " is given twice");
    }
  }
  if (out.empty()) out[base] = backtest::Amount::FromInt(100000);
  return out;
}

// Symbols that value every currency in the base currency: the shortest path of
// pairs in the store (fewest hops, then the most traded pair) from each currency.
std::vector<SymbolId> ConversionSymbols(const std::vector<store::SymbolInfo>& all, std::set<std::string> needed,
                                        const std::string& base, std::vector<std::string>* unreachable) {
  std::map<std::string, std::vector<const store::SymbolInfo*>> by_currency;
  for (const auto& s : all) {
    if (s.trade_count == 0 || s.base.empty() || s.quote.empty()) continue;
    by_currency[s.base].push_back(&s);
    by_currency[s.quote].push_back(&s);
  }
  for (auto& [c, list] : by_currency) {
    std::stable_sort(list.begin(), list.end(), [](auto* a, auto* b) { return a->trade_count > b->trade_count; });
  }
  // Breadth first from the base currency: via[c] = the pair that leads from c toward it.
  std::map<std::string, const store::SymbolInfo*> via;
  std::map<std::string, std::string> next;
  std::deque<std::string> queue{base};
  std::set<std::string> seen{base};
  while (!queue.empty()) {
    const std::string c = queue.front();
    queue.pop_front();
    for (const store::SymbolInfo* s : by_currency[c]) {
      const std::string other = s->base == c ? s->quote : s->base;
      if (!seen.insert(other).second) continue;
      via[other] = s;
      next[other] = c;
      queue.push_back(other);
    }
  }
  std::set<SymbolId> ids;
  for (const std::string& c : needed) {
    if (c == base) continue;
    if (!via.count(c)) {
      unreachable->push_back(c);
      continue;
    }
    for (std::string at = c; at != base; at = next[at]) ids.insert(via[at]->id);
  }
  return {ids.begin(), ids.end()};
}

std::string Describe(const std::optional<double>& v, double scale, const char* unit) {
  return v ? fmt::format("{:+.2f}{}", *v * scale, unit) : std::string("n/a");
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
  std::vector<std::string> names;
  for (const auto& s : backtest::BuiltinStrategies()) names.push_back(s.name);
  cmd->add_option("--strategy", a->strategy, "Strategy to run (listed below)")->check(CLI::IsMember(names))->capture_default_str();
  cmd->add_option("--param", a->params, "Strategy parameter NAME=VALUE (repeat; listed below)");
  cmd->add_option("--symbol", a->symbols, "Symbol to trade (repeat for several)")->required();
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
            auto params = backtest::Parameters::Bind(a->strategy, info->params, a->params);
            if (!params.ok()) return Fail(params.error());
            if (info->check) {
              if (Status s = info->check(*params); !s.ok()) return Fail(s.error());
            }
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

            auto store = OpenExistingStore(a->db);
            if (!store.ok()) return Fail(store.error());
            if (Status s = CheckDistinctSymbols(a->symbols); !s.ok()) return Fail(s.error());
            auto resolved = ResolveSymbols(**store, a->symbols);
            if (!resolved.ok()) return Fail(resolved.error());
            auto all = (*store)->ListSymbols();
            if (!all.ok()) return Fail(all.error());
            std::map<SymbolId, store::SymbolInfo> info_by_id;
            for (const auto& s : *all) info_by_id[s.id] = s;
            const auto& rules = table ? *table : backtest::InstrumentTable::Kraken();
            backtest::SymbolNames symbol_names;
            std::set<std::string> currencies;
            for (const auto& [c, v] : *cash) currencies.insert(c);
            for (SymbolId id : resolved->ids) {
              const store::SymbolInfo& s = info_by_id[id];
              options.instruments[id] = rules.For(s.symbol, s.base, s.quote, s.price_scale, s.volume_scale);
              symbol_names[id] = s.symbol;
              currencies.insert(s.base);
              currencies.insert(s.quote);
            }
            std::vector<std::string> unreachable;
            std::vector<SymbolId> stream_ids = resolved->ids;
            for (SymbolId id : ConversionSymbols(*all, currencies, a->base, &unreachable)) {
              if (options.instruments.count(id)) continue;
              const store::SymbolInfo& s = info_by_id[id];
              options.instruments[id] = rules.For(s.symbol, s.base, s.quote, s.price_scale, s.volume_scale);
              options.conversion_only.push_back(id);
              symbol_names[id] = s.symbol;
              stream_ids.push_back(id);
            }
            if (!unreachable.empty()) {
              return Fail(fmt::format("no pairs in the store value {} in {} (import a pair such as {}{}, or pass --base)",
                                      fmt::join(unreachable, ", "), a->base, unreachable.front(), a->base));
            }

            // The strategy runs on its own thread; the client's data thread only queues the trades.
            backtest::ThreadedBacktester bt([&] { return info->make(*params); }, options);
            auto session = ReplaySession::Start(a->db);
            if (!session.ok()) return Fail(session.error());
            Status failure;
            std::string stream_errors;
            std::uint64_t fingerprint = 1469598103934665603ULL, traded_events = 0;
            UnixNanos first_seen = UnixNanos::Max(), last_seen = UnixNanos::Min();
            client::Callbacks cb;
            cb.on_error = [&](const client::StreamError& e) {
              if (stream_errors.empty()) stream_errors = std::string(" after DataError ") + sbe::ToString(e.code);
            };
            cb.on_trade = [&](const client::TradeEvent& e) {
              if (!failure.ok()) return;
              // A fingerprint of the data the run saw: every trade's time, price, volume and symbol.
              for (std::uint64_t v : {static_cast<std::uint64_t>(e.trade.time.ns), static_cast<std::uint64_t>(e.trade.price.raw()),
                                      static_cast<std::uint64_t>(e.trade.volume.raw()), std::uint64_t{e.trade.symbol}}) {
                fingerprint = (fingerprint ^ v) * 1099511628211ULL;
              }
              ++traded_events;
              first_seen = std::min(first_seen, e.trade.time);
              last_seen = std::max(last_seen, e.trade.time);
              if (Status s = bt.OnTrade(e.trade); !s.ok()) failure = std::move(s);
            };
            const auto t0 = std::chrono::steady_clock::now();
            auto stream = session->client->RequestTrades({.symbols = stream_ids, .from = range->from, .to = range->to}, cb);
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
            auto results = bt.Finish();
            if (!results.ok()) return Fail(results.error());
            const backtest::Results& r = *results;
            const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

            backtest::RunConfig config;
            config.strategy = a->strategy;
            config.parameters = params->items();
            config.symbols = a->symbols;
            config.from = range->from;
            config.to = range->to;
            config.initial_cash = *cash;
            config.base_currency = a->base;
            config.resolution = a->res;
            if (!a->fees_file.empty()) config.fee_schedule = a->fees_file;
            config.fee_in_base = a->fee_in_base;
            config.version = "tickflow 0.1.0";
            config.data_fingerprint = fmt::format("{} trades, {} .. {}, fnv1a64 {:016x}", traded_events,
                                                  FormatIso8601(first_seen), FormatIso8601(last_seen), fingerprint);

            const auto& m = r.main().metrics;
            fmt::print("backtest {} on {}: {} trades in {:.2f} s ({}events/s), {} models in one pass\n", a->strategy,
                       fmt::join(a->symbols, ", "), Thousands(m.events), secs,
                       Rate(static_cast<double>(m.events) / secs), r.runs.size());
            fmt::print("  period        {} .. {}\n", FormatIso8601(m.first), FormatIso8601(m.last));
            fmt::print("  {:<13} {:>14} {:>10} {:>8} {:>9} {:>7} {:>7} {:>12}\n", "model", "final equity", "return",
                       "Sharpe", "max DD", "trips", "fills", "fees");
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
                           "depends on how fills are modelled\n", lo * 100, hi * 100);
              }
            }
            if (m.rejected > 0) fmt::print("  rejected      {} of {} orders (see --orders for the reasons)\n", m.rejected, m.orders);
            for (const auto& [c, path] : r.conversion_paths) {
              std::vector<std::string> hops;
              for (SymbolId id : path) hops.push_back(backtest::NameOf(symbol_names, id));
              const auto age = r.max_rate_age_seconds.find(c);
              fmt::print("  valued        {} in {} via {}{}\n", c, a->base, fmt::join(hops, " -> "),
                         age == r.max_rate_age_seconds.end() ? "" : fmt::format(" (oldest rate used {:.0f} s)", age->second));
            }
            const std::pair<const std::string*, std::string> outputs[] = {
                {&a->json, backtest::ResultsJson(r, config, symbol_names)},
                {&a->fills, a->fills.empty() ? "" : backtest::FillsCsv(r, symbol_names)},
                {&a->orders, a->orders.empty() ? "" : backtest::OrdersCsv(r, symbol_names)},
                {&a->trips, a->trips.empty() ? "" : backtest::TripsCsv(r, symbol_names)},
                {&a->out, a->out.empty() ? "" : backtest::HtmlReport(r, config, symbol_names)},
            };
            for (const auto& [path, text] : outputs) {
              if (path->empty()) continue;
              if (auto s = WriteFile(*path, text); !s.ok()) return Fail(s.error());
              fmt::print("  wrote         {}\n", *path);
            }
            return 0;
          }};
}

}  // namespace tickflow::cli
