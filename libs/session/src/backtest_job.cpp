#include "tickflow/session/backtest_job.hpp"

#include "tickflow/store/symbol_patterns.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "tickflow/backtest/threaded.hpp"
#include "tickflow/core/text.hpp"
#include "tickflow/session/replay.hpp"
#include "tickflow/version.hpp"

namespace tickflow::session {
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

// A fingerprint of the data a run saw (FNV-1a over every trade's time, price, volume, symbol).
struct Fingerprint {
  std::uint64_t hash = 1469598103934665603ULL;
  std::uint64_t count = 0;
  UnixNanos first = UnixNanos::Max(), last = UnixNanos::Min();
  void Add(const Trade& t) {
    for (std::uint64_t v : {static_cast<std::uint64_t>(t.time.ns), static_cast<std::uint64_t>(t.price.raw()),
                            static_cast<std::uint64_t>(t.volume.raw()), std::uint64_t{t.symbol}}) {
      hash = (hash ^ v) * 1099511628211ULL;
    }
    ++count;
    first = std::min(first, t.time);
    last = std::max(last, t.time);
  }
  std::string Describe() const {
    return fmt::format("{} trades, {} .. {}, fnv1a64 {:016x}", count, FormatIso8601(first), FormatIso8601(last), hash);
  }
};

Result<std::unique_ptr<store::Store>> OpenToRead(const std::string& db) {
  store::OpenOptions o;
  o.create = false;
  o.read_only = true;
  return store::OpenStore(db, o);
}

// What both ways of running share: the symbols' rules, the conversion pairs,
// the run's configuration and the backtester fed by the caller.
struct Prepared {
  BacktestOutcome out;
  std::vector<SymbolId> stream_ids;  // the traded symbols, then the conversion pairs
  backtest::BacktestOptions options;
};

Result<Prepared> Prepare(BacktestJob& job, store::Store& store) {
  Prepared p;
  BacktestOutcome& out = p.out;
  backtest::BacktestOptions& options = job.options;
  const std::string& base = options.base_currency;
  if (job.strategy == nullptr && !job.make && job.runs.empty()) return MakeError(ErrorCode::kInvalidArgument, "no strategy to run");
  if (job.range.from >= job.range.to) {
    return MakeError(ErrorCode::kInvalidArgument, "the range [" + FormatIso8601(job.range.from) + ", " +
                                                      FormatIso8601(job.range.to) + ") is empty: start must be before end");
  }
  TICKFLOW_ASSIGN_OR_RETURN(auto all, store.ListSymbols());
  TICKFLOW_ASSIGN_OR_RETURN(job.symbols, store::ExpandSymbolPatterns(job.symbols, all));  // '*USD', 'XBT*', '*'
  TICKFLOW_RETURN_IF_ERROR(CheckDistinctSymbols(job.symbols));
  std::map<SymbolId, store::SymbolInfo> info_by_id;
  for (const auto& s : all) info_by_id[s.id] = s;
  const auto& rules = job.rules ? *job.rules : backtest::InstrumentTable::Kraken();
  std::set<std::string> currencies;
  for (const auto& [c, v] : options.initial_cash) currencies.insert(c);
  std::vector<SymbolId> traded;
  for (const std::string& name : job.symbols) {
    TICKFLOW_ASSIGN_OR_RETURN(const store::SymbolInfo s, store.FindSymbol(name));
    traded.push_back(s.id);
    options.instruments[s.id] = rules.For(s.symbol, s.base, s.quote, s.price_scale, s.volume_scale);
    out.names[s.id] = s.symbol;
    currencies.insert(s.base);
    currencies.insert(s.quote);
  }
  std::vector<std::string> unreachable;
  p.stream_ids = traded;
  if (!job.runs.empty()) {
    // Each run keeps an equity point per period: bound what a sweep may hold.
    UnixNanos first = UnixNanos::Max(), last = UnixNanos::Min();
    for (SymbolId id : traded) {
      first = std::min(first, std::max(info_by_id[id].first_time, job.range.from));
      last = std::max(last, std::min(info_by_id[id].last_time, job.range.to));
    }
    const std::int64_t width = NextBucketStart(UnixNanos{0}, options.bar_resolution).ns;  // the first period's length
    const double periods = last > first ? static_cast<double>(last.ns - first.ns) / static_cast<double>(width) + 2 : 2;
    constexpr double kMaxPoints = 5e7;  // ~2.4 GB of equity points
    if (periods * static_cast<double>(job.runs.size()) > kMaxPoints) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("{} configurations x ~{:.0f} equity points (one per bar period) exceed {:.0f} million: "
                                   "use a coarser resolution, a shorter range or fewer configurations",
                                   job.runs.size(), periods, kMaxPoints / 1e6));
    }
  }
  for (SymbolId id : ConversionSymbols(all, currencies, base, &unreachable)) {
    if (options.instruments.count(id)) continue;
    const store::SymbolInfo& s = info_by_id[id];
    options.instruments[id] = rules.For(s.symbol, s.base, s.quote, s.price_scale, s.volume_scale);
    options.conversion_only.push_back(id);
    out.names[id] = s.symbol;
    p.stream_ids.push_back(id);
  }
  if (!unreachable.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     fmt::format("no pairs in the store value {} in {} (import a pair such as {}{}, or choose another "
                                 "base currency)",
                                 fmt::join(unreachable, ", "), base, unreachable.front(), base));
  }
  out.config = job.config;
  out.config.strategy = job.strategy ? job.strategy->name : job.strategy_name;
  out.config.parameters = job.params.items();
  out.config.symbols = job.symbols;
  out.config.from = job.range.from;
  out.config.to = job.range.to;
  out.config.initial_cash = options.initial_cash;
  out.config.base_currency = base;
  out.config.fee_in_base = options.fee_in_base;
  out.config.version = std::string("tickflow ") + kVersion;
  if (job.strategy != nullptr) {
    job.make = [info = job.strategy, params = job.params] { return info->make(params); };
  }
  p.options = options;
  return p;
}

Status CheckSomeTrades(const BacktestJob& job, std::uint64_t received) {
  if (received != 0) return {};
  return MakeError(
      ErrorCode::kNotFound,
      fmt::format("no trades of {} in [{}, {}): nothing to backtest (`tickflow symbols` shows "
                  "each market's first and last trade)",
                  store::DescribeSymbols(job.symbols), FormatIso8601(job.range.from), FormatIso8601(job.range.to)));
}

}  // namespace

Status CheckDistinctSymbols(const std::vector<std::string>& symbols) {
  for (auto it = symbols.begin(); it != symbols.end(); ++it) {
    if (std::find(symbols.begin(), it, *it) != it) {
      return MakeError(ErrorCode::kInvalidArgument, "symbol " + *it + " is given twice: name each symbol once");
    }
  }
  if (symbols.empty()) return MakeError(ErrorCode::kInvalidArgument, "no symbols: name at least one market to trade");
  return {};
}

Result<backtest::Parameters> BindParameters(const backtest::StrategyInfo& strategy, const std::vector<std::string>& params) {
  TICKFLOW_ASSIGN_OR_RETURN(auto bound, backtest::Parameters::Bind(strategy.name, strategy.params, params));
  if (strategy.check) TICKFLOW_RETURN_IF_ERROR(strategy.check(bound));
  return bound;
}

Result<std::map<std::string, backtest::Amount>> ParseCash(const std::vector<std::string>& items, const std::string& base,
                                                          const std::string& what) {
  std::map<std::string, backtest::Amount> out;
  for (const std::string& item : items) {
    const std::size_t colon = item.find(':');
    const std::string currency = colon == std::string::npos ? base : item.substr(0, colon);
    const std::string value = colon == std::string::npos ? item : item.substr(colon + 1);
    auto a = backtest::Amount::Parse(value);
    if (!a.ok()) return MakeError(ErrorCode::kInvalidArgument, what + " " + item + ": " + a.error().message);
    if (a->IsNegative()) return MakeError(ErrorCode::kInvalidArgument, what + " " + item + ": must not be negative");
    if (currency.empty()) return MakeError(ErrorCode::kInvalidArgument, what + " " + item + ": expected CURRENCY:AMOUNT");
    if (!out.emplace(currency, *a).second) {
      return MakeError(ErrorCode::kInvalidArgument, what + ": " + currency + " is given twice");
    }
  }
  if (out.empty()) out[base] = backtest::Amount::FromInt(100000);
  const backtest::Amount most = backtest::Amount::FromInt(1'000'000'000'000'000);
  bool any = false;
  for (const auto& [currency, amount] : out) {
    if (amount > most) return MakeError(ErrorCode::kInvalidArgument, what + " " + currency + ": at most 1e15");
    any = any || !amount.IsZero();
  }
  if (!any) return MakeError(ErrorCode::kInvalidArgument, what + ": the account has no money (give a positive amount)");
  return out;
}

Result<BacktestOutcome> RunBacktest(BacktestJob job) {
  Prepared p;
  {
    TICKFLOW_ASSIGN_OR_RETURN(auto store, OpenToRead(job.db));
    TICKFLOW_ASSIGN_OR_RETURN(p, Prepare(job, *store));
  }
  BacktestOutcome& out = p.out;
  // The strategies run on their own thread; the client's data thread only queues the trades.
  std::optional<backtest::ThreadedBacktester> threaded;
  if (job.runs.empty()) {
    threaded.emplace(job.make, p.options);
  } else {
    threaded.emplace(std::move(job.runs), p.options, job.workers, backtest::ThreadedBacktester::Options{});
  }
  backtest::ThreadedBacktester& bt = *threaded;
  TICKFLOW_ASSIGN_OR_RETURN(auto session, ReplaySession::Start(job.db));
  Status failure;
  std::string stream_errors;
  Fingerprint seen;
  client::Callbacks cb;
  cb.on_error = [&](const client::StreamError& e) {
    if (stream_errors.empty()) stream_errors = std::string(" after DataError ") + sbe::ToString(e.code);
  };
  cb.on_trades = [&](const client::TradeBatch& b) {  // a frame's trades at once: one copy into the queue
    if (!failure.ok()) return;
    for (const Trade& t : b.trades) seen.Add(t);
    if (Status s = bt.OnTrades(b.trades); !s.ok()) failure = std::move(s);
  };
  const auto t0 = std::chrono::steady_clock::now();
  TICKFLOW_ASSIGN_OR_RETURN(auto stream, session.client->RequestTrades(
                                             {.symbols = p.stream_ids, .from = job.range.from, .to = job.range.to}, cb));
  TICKFLOW_ASSIGN_OR_RETURN(auto end, stream->Wait(std::chrono::hours(24)));
  TICKFLOW_RETURN_IF_ERROR(failure);
  if (end.reason != sbe::StreamEndReason::kCompleted) {
    return MakeError(ErrorCode::kUnavailable,
                     fmt::format("the replay of {} ended {}{} after {} of the trades it sent{}; no results, "
                                 "they would cover only part of the range",
                                 store::DescribeSymbols(job.symbols), sbe::ToString(end.reason), stream_errors,
                                 WithThousands(end.received), session.Cause()));
  }
  if (end.missing != 0) return MakeError(ErrorCode::kCorrupt, "the replay lost messages; the backtest would be wrong");
  TICKFLOW_RETURN_IF_ERROR(CheckSomeTrades(job, end.received));
  TICKFLOW_ASSIGN_OR_RETURN(out.results, bt.Finish());
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.config.data_fingerprint = seen.Describe();
  return std::move(out);
}

Result<BacktestOutcome> RunBacktestOnStore(BacktestJob job, const std::function<Status()>& between_batches) {
  TICKFLOW_ASSIGN_OR_RETURN(auto store, OpenToRead(job.db));
  TICKFLOW_ASSIGN_OR_RETURN(Prepared p, Prepare(job, *store));
  BacktestOutcome& out = p.out;
  std::optional<backtest::Backtester> bt;
  if (job.runs.empty()) {
    bt.emplace(job.make, p.options);
  } else {
    bt.emplace(std::move(job.runs), p.options);
  }
  const auto t0 = std::chrono::steady_clock::now();
  TICKFLOW_ASSIGN_OR_RETURN(auto cursor, store->Trades(p.stream_ids, job.range));
  Fingerprint seen;
  for (;;) {
    TICKFLOW_ASSIGN_OR_RETURN(const std::span<const Trade> batch, cursor->NextView());
    if (batch.empty()) break;
    for (const Trade& t : batch) seen.Add(t);
    TICKFLOW_RETURN_IF_ERROR(bt->OnTrades(batch));
    if (between_batches) TICKFLOW_RETURN_IF_ERROR(between_batches());
  }
  TICKFLOW_RETURN_IF_ERROR(CheckSomeTrades(job, seen.count));
  TICKFLOW_ASSIGN_OR_RETURN(out.results, bt->Finish());
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.config.data_fingerprint = seen.Describe();
  return std::move(out);
}

}  // namespace tickflow::session
