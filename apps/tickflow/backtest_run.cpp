#include "backtest_run.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "common.hpp"
#include "replay_session.hpp"
#include "tickflow/backtest/threaded.hpp"

namespace tickflow::cli {
namespace {

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

void AddStrategyOption(CLI::App* cmd, std::string* strategy, const std::string& help) {
  std::vector<std::string> names;
  for (const auto& s : backtest::BuiltinStrategies()) names.push_back(s.name);
  cmd->add_option("--strategy", *strategy, help)->check(CLI::IsMember(names))->capture_default_str();
}

Result<backtest::Parameters> BindParameters(const backtest::StrategyInfo& strategy, const std::vector<std::string>& params) {
  TICKFLOW_ASSIGN_OR_RETURN(auto bound, backtest::Parameters::Bind(strategy.name, strategy.params, params));
  if (strategy.check) TICKFLOW_RETURN_IF_ERROR(strategy.check(bound));
  return bound;
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
  const backtest::Amount most = backtest::Amount::FromInt(1'000'000'000'000'000);
  bool any = false;
  for (const auto& [currency, amount] : out) {
    if (amount > most) return MakeError(ErrorCode::kInvalidArgument, "--cash " + currency + ": at most 1e15");
    any = any || !amount.IsZero();
  }
  if (!any) return MakeError(ErrorCode::kInvalidArgument, "--cash: the account has no money (give a positive amount)");
  return out;
}

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return MakeError(ErrorCode::kIo, "cannot write " + path);
  fmt::print("  wrote         {}\n", path);
  return {};
}

Result<BacktestOutcome> RunBacktest(BacktestJob job) {
  BacktestOutcome out;
  backtest::BacktestOptions& options = job.options;
  const std::string& base = options.base_currency;
  TICKFLOW_RETURN_IF_ERROR(CheckDistinctSymbols(job.symbols));
  TICKFLOW_ASSIGN_OR_RETURN(auto store, OpenExistingStore(job.db));
  TICKFLOW_ASSIGN_OR_RETURN(auto resolved, ResolveSymbols(*store, job.symbols));
  TICKFLOW_ASSIGN_OR_RETURN(auto all, store->ListSymbols());
  std::map<SymbolId, store::SymbolInfo> info_by_id;
  for (const auto& s : all) info_by_id[s.id] = s;
  const auto& rules = job.rules ? *job.rules : backtest::InstrumentTable::Kraken();
  std::set<std::string> currencies;
  for (const auto& [c, v] : options.initial_cash) currencies.insert(c);
  for (SymbolId id : resolved.ids) {
    const store::SymbolInfo& s = info_by_id[id];
    options.instruments[id] = rules.For(s.symbol, s.base, s.quote, s.price_scale, s.volume_scale);
    out.names[id] = s.symbol;
    currencies.insert(s.base);
    currencies.insert(s.quote);
  }
  std::vector<std::string> unreachable;
  std::vector<SymbolId> stream_ids = resolved.ids;
  if (!job.runs.empty()) {
    // Each run keeps an equity point per period: bound what a sweep may hold.
    UnixNanos first = UnixNanos::Max(), last = UnixNanos::Min();
    for (SymbolId id : resolved.ids) {
      first = std::min(first, std::max(info_by_id[id].first_time, job.range.from));
      last = std::max(last, std::min(info_by_id[id].last_time, job.range.to));
    }
    const std::int64_t width = NextBucketStart(UnixNanos{0}, options.bar_resolution).ns;  // the first period's length
    const double periods = last > first ? static_cast<double>(last.ns - first.ns) / static_cast<double>(width) + 2 : 2;
    constexpr double kMaxPoints = 5e7;  // ~2.4 GB of equity points
    if (periods * static_cast<double>(job.runs.size()) > kMaxPoints) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("{} configurations x ~{:.0f} equity points (one per --res period) exceed {:.0f} million: "
                                   "use a coarser --res, a shorter range or fewer configurations",
                                   job.runs.size(), periods, kMaxPoints / 1e6));
    }
  }
  for (SymbolId id : ConversionSymbols(all, currencies, base, &unreachable)) {
    if (options.instruments.count(id)) continue;
    const store::SymbolInfo& s = info_by_id[id];
    options.instruments[id] = rules.For(s.symbol, s.base, s.quote, s.price_scale, s.volume_scale);
    options.conversion_only.push_back(id);
    out.names[id] = s.symbol;
    stream_ids.push_back(id);
  }
  if (!unreachable.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     fmt::format("no pairs in the store value {} in {} (import a pair such as {}{}, or pass --base)",
                                 fmt::join(unreachable, ", "), base, unreachable.front(), base));
  }
  out.config = job.config;
  out.config.strategy = job.strategy->name;
  out.config.parameters = job.params.items();
  out.config.symbols = job.symbols;
  out.config.from = job.range.from;
  out.config.to = job.range.to;
  out.config.initial_cash = options.initial_cash;
  out.config.base_currency = base;
  out.config.fee_in_base = options.fee_in_base;
  out.config.version = "tickflow 0.1.0";

  // The strategies run on their own thread; the client's data thread only queues the trades.
  const backtest::StrategyInfo* info = job.strategy;
  const backtest::Parameters params = job.params;
  std::optional<backtest::ThreadedBacktester> threaded;
  if (job.runs.empty()) {
    threaded.emplace([&] { return info->make(params); }, options);
  } else {
    threaded.emplace(std::move(job.runs), options, job.workers, backtest::ThreadedBacktester::Options{});
  }
  backtest::ThreadedBacktester& bt = *threaded;
  TICKFLOW_ASSIGN_OR_RETURN(auto session, ReplaySession::Start(job.db));
  Status failure;
  std::string stream_errors;
  std::uint64_t fingerprint = 1469598103934665603ULL, count = 0;
  UnixNanos first_seen = UnixNanos::Max(), last_seen = UnixNanos::Min();
  client::Callbacks cb;
  cb.on_error = [&](const client::StreamError& e) {
    if (stream_errors.empty()) stream_errors = std::string(" after DataError ") + sbe::ToString(e.code);
  };
  cb.on_trade = [&](const client::TradeEvent& e) {
    if (!failure.ok()) return;
    // A fingerprint of the data the run saw (FNV-1a over every trade's time, price, volume, symbol).
    for (std::uint64_t v : {static_cast<std::uint64_t>(e.trade.time.ns), static_cast<std::uint64_t>(e.trade.price.raw()),
                            static_cast<std::uint64_t>(e.trade.volume.raw()), std::uint64_t{e.trade.symbol}}) {
      fingerprint = (fingerprint ^ v) * 1099511628211ULL;
    }
    ++count;
    first_seen = std::min(first_seen, e.trade.time);
    last_seen = std::max(last_seen, e.trade.time);
    if (Status s = bt.OnTrade(e.trade); !s.ok()) failure = std::move(s);
  };
  const auto t0 = std::chrono::steady_clock::now();
  TICKFLOW_ASSIGN_OR_RETURN(auto stream,
                            session.client->RequestTrades({.symbols = stream_ids, .from = job.range.from, .to = job.range.to}, cb));
  TICKFLOW_ASSIGN_OR_RETURN(auto end, stream->Wait(std::chrono::hours(24)));
  TICKFLOW_RETURN_IF_ERROR(failure);
  if (end.reason != sbe::StreamEndReason::kCompleted) {
    return MakeError(ErrorCode::kUnavailable,
                     fmt::format("the replay of {} ended {}{} after {} of the trades it sent{}; no results, "
                                 "they would cover only part of the range",
                                 fmt::join(job.symbols, ", "), sbe::ToString(end.reason), stream_errors,
                                 Thousands(end.received), session.Cause()));
  }
  if (end.missing != 0) return MakeError(ErrorCode::kCorrupt, "the replay lost messages; the backtest would be wrong");
  if (end.received == 0) {
    return MakeError(ErrorCode::kNotFound,
                     fmt::format("no trades of {} in [{}, {}): nothing to backtest (`tickflow symbols` shows "
                                 "each market's first and last trade)",
                                 fmt::join(job.symbols, ", "), FormatIso8601(job.range.from), FormatIso8601(job.range.to)));
  }
  TICKFLOW_ASSIGN_OR_RETURN(out.results, bt.Finish());
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.config.data_fingerprint = fmt::format("{} trades, {} .. {}, fnv1a64 {:016x}", count, FormatIso8601(first_seen),
                                            FormatIso8601(last_seen), fingerprint);
  return out;
}

void PrintBacktest(const BacktestOutcome& o) {
  const backtest::Results& r = o.results;
  const auto& m = r.main().metrics;
  fmt::print("backtest {} on {}: {} trades in {:.2f} s ({}events/s), {} models in one pass\n", o.config.strategy,
             fmt::join(o.config.symbols, ", "), Thousands(m.events), o.seconds,
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
