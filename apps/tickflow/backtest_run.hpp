// The CLI side of a backtest (libs/session runs it): the --strategy option,
// output files, and the models printed side by side. Shared by `tickflow
// backtest`, the research commands and `tickflow demo`.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "tickflow/backtest/backtest.hpp"
#include "tickflow/backtest/outputs.hpp"
#include "tickflow/backtest/strategies.hpp"
#include "tickflow/session/backtest_job.hpp"
#include "tickflow/store/store.hpp"

namespace tickflow::cli {

using session::BacktestJob;
using session::BacktestOutcome;
using session::BindParameters;
using session::ParseCash;
using session::RunBacktest;

// --strategy NAME, one of the built-in strategies.
void AddStrategyOption(CLI::App* cmd, std::string* strategy, const std::string& help);
// Writes an output file and says so ("  wrote         PATH").
Status WriteText(const std::string& path, const std::string& text);

void PrintBacktest(const BacktestOutcome& outcome);

}  // namespace tickflow::cli
