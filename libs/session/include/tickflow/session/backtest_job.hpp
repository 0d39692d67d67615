// Running a backtest from the store: resolve the symbols and their rules, find
// the conversion pairs that value every currency in the base currency, stream
// the trades, and return the results of every execution model. Shared by
// `tickflow backtest|sweep|walkforward|audit|demo` and the Python module.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tickflow/backtest/backtest.hpp"
#include "tickflow/backtest/outputs.hpp"
#include "tickflow/backtest/strategies.hpp"
#include "tickflow/store/store.hpp"

namespace tickflow::session {

struct BacktestJob {
  std::string db;
  std::vector<std::string> symbols;
  store::TimeRange range;
  // A built-in strategy with its parameters, or (strategy == nullptr) `make`
  // with `strategy_name` and `params` recorded in the run's configuration.
  const backtest::StrategyInfo* strategy = nullptr;
  backtest::StrategyFactory make;
  std::string strategy_name;
  backtest::Parameters params;
  backtest::BacktestOptions options;              // instruments and conversion pairs are added
  const backtest::InstrumentTable* rules = nullptr;  // nullptr: Kraken's
  backtest::RunConfig config;                     // resolution and fee schedule set by the caller
  // A sweep: these runs instead of the strategy under each of options.models, spread
  // over `workers` threads that all read the one replay (RunBacktestOnStore: one thread).
  std::vector<backtest::RunSpec> runs;
  std::size_t workers = 1;
};

struct BacktestOutcome {
  backtest::Results results;
  backtest::RunConfig config;
  backtest::SymbolNames names;
  double seconds = 0;
};

// An error naming the first symbol given twice, or saying that none is given.
Status CheckDistinctSymbols(const std::vector<std::string>& symbols);
// A strategy's NAME=VALUE items bound to its parameters and its own check.
Result<backtest::Parameters> BindParameters(const backtest::StrategyInfo& strategy, const std::vector<std::string>& params);
// "100000" (of the base currency) or "CURRENCY:AMOUNT" items; default 100000 of the base.
// Errors start with `what` (the option or argument the items came from).
Result<std::map<std::string, backtest::Amount>> ParseCash(const std::vector<std::string>& items, const std::string& base,
                                                          const std::string& what = "--cash");

// Replays the trades through an in-process gateway to a ThreadedBacktester
// (the strategies on their own thread, as a live client would run them).
// Errors: unknown symbols, a currency no pair values, a failed or empty stream
// (naming the range), a failed backtest.
Result<BacktestOutcome> RunBacktest(BacktestJob job);

// The same trades read straight from the store and fed to the strategies on
// the calling thread (no gateway, no threads: for strategies that must run on
// the caller's thread, such as Python's). `between_batches` runs after each
// batch of trades; an error from it stops the run and is returned.
Result<BacktestOutcome> RunBacktestOnStore(BacktestJob job, const std::function<Status()>& between_batches = {});

}  // namespace tickflow::session
