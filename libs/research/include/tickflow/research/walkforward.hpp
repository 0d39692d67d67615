// Walk-forward validation over one sweep's runs (docs/research.md): in each
// fold the trials are ranked on the in-sample window by a metric, and the
// chosen one's returns over the out-of-sample window are kept; the kept returns,
// stitched, are the out-of-sample equity. Every trial ran over the whole range
// in one replay, so "running the chosen configuration out of sample" is its
// continuation: the state it had at the window's start (positions included) is
// the state it would have had running all along.
//
// Folds (times in nanoseconds), for k = 0, 1, ...:
//   oos_from(k) = from + in_sample + purge + k (out_of_sample + embargo)
//   oos_to(k)   = oos_from(k) + out_of_sample            (must be <= to)
//   is_to(k)    = oos_from(k) - purge                    (the purge separates them)
//   is_from(k)  = anchored ? from : is_to(k) - in_sample
// so in-sample and out-of-sample never overlap, out-of-sample windows are
// disjoint and `embargo` apart (López de Prado, Advances in Financial Machine
// Learning, 2018, ch. 7: purging and embargo).
#pragma once

#include <cstdint>
#include <vector>

#include "tickflow/backtest/backtest.hpp"
#include "tickflow/research/sweep.hpp"

namespace tickflow::research {

struct WalkForwardOptions {
  std::int64_t in_sample_ns = 0, out_of_sample_ns = 0, purge_ns = 0, embargo_ns = 0;
  bool anchored = false;
  Metric metric = Metric::kSharpe;
};

struct Fold {
  UnixNanos is_from, is_to, oos_from, oos_to;
  std::size_t chosen = 0;        // trial index
  double in_sample_score = 0;    // of the chosen trial
  double out_of_sample_return = 0;
  std::size_t in_sample_points = 0, out_of_sample_points = 0;
};

// Errors: non-positive windows, negative purge or embargo, a range that holds no fold.
Result<std::vector<Fold>> MakeFolds(UnixNanos from, UnixNanos to, const WalkForwardOptions& options);

struct WalkForward {
  std::vector<Fold> folds;
  std::vector<backtest::EquityPoint> stitched;  // out-of-sample equity, from the first run's initial equity
  double out_of_sample_return = 0;
  ReturnMoments out_of_sample;                  // of the stitched returns
};
// runs[i]: trial i over the whole range (one sweep). Errors: those of MakeFolds, and a
// fold whose windows hold fewer than 2 equity points (fewer observations than folds).
Result<WalkForward> RunWalkForward(const std::vector<backtest::ModelRun>& runs, UnixNanos from, UnixNanos to,
                                   const WalkForwardOptions& options);

}  // namespace tickflow::research
