// Helpers shared by the `tickflow bench` subcommands.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tickflow/core/result.hpp"

namespace tickflow::cli::bench {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string what;
  std::string dir = "/tmp/tickflow-bench";
  std::uint64_t rows = 20'000'000;
  int files = 20;
  int runs = 3;
};

double Seconds(Clock::time_point t0);
double Median(std::vector<double> v);
// Resident set size of a process in MiB ("self" = this one).
double RssMiB(const std::string& pid = "self");
// A store with one symbol (id 1) of a.rows trades, generated and imported once under a.dir.
Result<std::string> ScanStore(const Args& a);

int BenchNats(const Args& a);

}  // namespace tickflow::cli::bench
