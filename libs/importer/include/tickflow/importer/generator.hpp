// Synthetic Kraken-format trade history: one SYMBOL.csv per market, rows
// `timestamp,price,volume` in time order, whole-second timestamps like
// Kraken's bulk download. Prices follow a random walk with volatility
// clusters (a mean-reverting volatility regime with shocks); trading activity
// rises with volatility and comes in bursts of several trades in the same
// second. Output depends only on the options: the same seed gives the same bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "tickflow/core/result.hpp"

namespace tickflow::importer {

struct GenerateOptions {
  std::string out_dir;
  int symbols = 4;                   // 1..500; real Kraken pair names first
  std::uint64_t trades = 100000;     // per symbol
  int years = 2;                     // span, ending 2024-01-01T00:00:00Z
  std::uint64_t seed = 1;
  std::function<void(const std::string& file, std::uint64_t rows, std::uint64_t bytes)> on_file;
};

struct GenerateSummary {
  int files = 0;
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
};

Result<GenerateSummary> GenerateKrakenCsv(const GenerateOptions& options);

}  // namespace tickflow::importer
