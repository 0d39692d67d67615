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
#include <vector>

#include "tickflow/core/result.hpp"

namespace tickflow::importer {

struct GenerateOptions {
  std::string out_dir;
  int symbols = 4;                // 1..20000; real Kraken pair names first
  std::uint64_t trades = 100000;  // per symbol (when total is 0)
  // Kraken-shaped instead (when > 0): this many trades in all, spread over the
  // markets by a heavy-tailed law (market k of n gets a share proportional to
  // 1 / (k + 1)^1.1, at least one trade: with 708 markets the first holds ~19 %,
  // the median market ~0.03 %), each market listed at its own date (the majors
  // first, most markets late) and trading until the end of the span.
  std::uint64_t total = 0;
  int years = 2;                     // span, ending 2024-01-01T00:00:00Z
  std::uint64_t seed = 1;
  // Kraken's quarterly updates: the last `quarters` calendar quarters of every market
  // go to update_dir/YYYYQn/SYMBOL.csv instead of the main file (0 = none).
  int quarters = 0;
  std::string update_dir;
  std::function<void(const std::string& file, std::uint64_t rows, std::uint64_t bytes)> on_file;
};

struct GenerateSummary {
  int files = 0;  // main files and update files
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
  std::uint64_t largest = 0, smallest = 0;  // trades of the biggest and the smallest market
};

// The trades each market gets under GenerateOptions::total (largest first; sums to total).
std::vector<std::uint64_t> KrakenShapedSizes(int markets, std::uint64_t total);

Result<GenerateSummary> GenerateKrakenCsv(const GenerateOptions& options);

}  // namespace tickflow::importer
