// Running a backtest from the store: resolve the symbols and their rules, find
// the conversion pairs, replay through an in-process gateway to a
// ThreadedBacktester, and print the models side by side. Shared by
// `tickflow backtest` and `tickflow demo`.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

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

// --strategy NAME, one of the built-in strategies.
void AddStrategyOption(CLI::App* cmd, std::string* strategy, const std::string& help);
// --param NAME=VALUE bound to the strategy's parameters and its own check.
Result<backtest::Parameters> BindParameters(const backtest::StrategyInfo& strategy, const std::vector<std::string>& params);
// --cash 100000 (of the base currency) or CURRENCY:AMOUNT, repeated; default 100000 of the base.
Result<std::map<std::string, backtest::Amount>> ParseCash(const std::vector<std::string>& items, const std::string& base);
// Writes an output file and says so ("  wrote         PATH").
Status WriteText(const std::string& path, const std::string& text);

// Errors: unknown symbols, a currency no pair values, a failed or empty stream
// (naming the range), a failed backtest.
Result<BacktestOutcome> RunBacktest(BacktestJob job);
void PrintBacktest(const BacktestOutcome& outcome);

}  // namespace tickflow::cli
