// The research page: one self-contained HTML file (no network), like the
// backtest tearsheet: a heatmap of two parameters against the metric, the
// distribution of the trials' Sharpe ratios with the deflated threshold, the
// statistics with their inputs, and for a walk-forward its folds and the
// stitched out-of-sample equity.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tickflow/research/sweep.hpp"
#include "tickflow/research/walkforward.hpp"

namespace tickflow::research {

struct ResearchPage {
  std::string title;
  std::vector<std::pair<std::string, std::string>> config;  // shown as a table
  const std::vector<Trial>* trials = nullptr;
  const std::vector<backtest::ModelRun>* runs = nullptr;    // runs[i] of trials[i]
  const SweepSummary* summary = nullptr;
  const WalkForward* walkforward = nullptr;                 // optional
  std::string heat_x, heat_y;                               // two parameters; empty: the first two
};
std::string HtmlResearchReport(const ResearchPage& page);

}  // namespace tickflow::research
