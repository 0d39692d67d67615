// Running a backtest from the store: resolve the symbols and their rules, find
// the conversion pairs, replay through an in-process gateway to a
// ThreadedBacktester, and print the models side by side. Shared by
// `tickflow backtest` and `tickflow demo`.
#pragma once

#include <string>
#include <vector>

#include "tickflow/backtest/backtest.hpp"
#include "tickflow/backtest/outputs.hpp"
#include "tickflow/backtest/strategies.hpp"
#include "tickflow/store/store.hpp"

namespace tickflow::cli {

struct BacktestJob {
  std::string db;
  std::vector<std::string> symbols;
  store::TimeRange range;
  const backtest::StrategyInfo* strategy = nullptr;
  backtest::Parameters params;
  backtest::BacktestOptions options;              // instruments and conversion pairs are added
  const backtest::InstrumentTable* rules = nullptr;  // nullptr: Kraken's
  backtest::RunConfig config;                     // resolution and fee schedule set by the caller
  // A sweep: these runs instead of the strategy under each of options.models, spread
  // over `workers` threads that all read the one replay.
  std::vector<backtest::RunSpec> runs;
  std::size_t workers = 1;
};

struct BacktestOutcome {
  backtest::Results results;
  backtest::RunConfig config;
  backtest::SymbolNames names;
  double seconds = 0;
};

// Errors: unknown symbols, a currency no pair values, a failed or empty stream
// (naming the range), a failed backtest.
Result<BacktestOutcome> RunBacktest(BacktestJob job);
void PrintBacktest(const BacktestOutcome& outcome);

}  // namespace tickflow::cli
