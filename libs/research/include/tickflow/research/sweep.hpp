// Parameter sweeps: the configurations of a grid or a random sample, each bound
// to a strategy's typed parameters; their runs (one replay, see
// backtest::ThreadedBacktester with RunSpecs) evaluated together: the best by a
// metric, and the overfitting statistics of the whole set (stats.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tickflow/backtest/backtest.hpp"
#include "tickflow/backtest/strategies.hpp"
#include "tickflow/research/stats.hpp"

namespace tickflow::research {

struct Trial {
  std::string label;                     // "fast=10 slow=50"
  std::vector<std::string> assignments;  // {"fast=10", "slow=50"}
  backtest::Parameters params;
};

// --grid NAME=V1,V2,... (repeat): every combination, in the order given (the last name varies fastest).
// Errors: an empty grid or list, a name given twice, a parameter the strategy does not have,
// a value it refuses (Parameters::Bind), combinations its check refuses are skipped and counted.
Result<std::vector<Trial>> GridTrials(const backtest::StrategyInfo& strategy, const std::vector<std::string>& grid,
                                      std::size_t* refused = nullptr);
// --range NAME=LOW:HIGH (repeat), `count` draws (uniform; integers for integer
// parameters, else at the finer of the bounds' digits), seeded: the same seed draws the same.
// Errors: a low end above its high end, and those of GridTrials.
Result<std::vector<Trial>> RandomTrials(const backtest::StrategyInfo& strategy, const std::vector<std::string>& ranges,
                                        std::size_t count, std::uint64_t seed, std::size_t* refused = nullptr);

// A metric to choose by: "sharpe" (per period, from the equity points), "return" (total).
enum class Metric : std::uint8_t { kSharpe, kReturn };
Result<Metric> ParseMetric(std::string_view text);
std::string_view ToString(Metric m);

// Period returns of a run's equity points (all runs of one backtest share the points).
std::vector<double> PeriodReturns(const std::vector<backtest::EquityPoint>& equity);
double Score(Metric metric, const std::vector<double>& returns);

struct SweepSummary {
  Metric metric = Metric::kSharpe;
  std::size_t best = 0;                 // index of the best trial by the metric
  std::vector<double> scores;           // per trial
  std::vector<ReturnMoments> moments;   // per trial, of its period returns
  DeflatedSharpe deflated;              // of the best trial among all
  Pbo pbo;
};
// runs[i] belongs to trials[i]. Errors: those of the statistics (too few trials or observations).
Result<SweepSummary> Summarize(const std::vector<backtest::ModelRun>& runs, Metric metric, std::size_t partitions);

}  // namespace tickflow::research
