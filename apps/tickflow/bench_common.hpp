// Helpers shared by the `tickflow bench` subcommands.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tickflow/client/client.hpp"
#include "tickflow/core/result.hpp"
#include "tickflow/store/store.hpp"

namespace tickflow::cli::bench {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string what;
  std::string dir = "/tmp/tickflow-bench";
  std::uint64_t rows = 20'000'000;
  int files = 20;
  int runs = 3;
  std::string only;  // bench backtest: only the cases whose label contains this (the replay baseline always runs)
  std::string clickhouse = "clickhouse://127.0.0.1:8123/tickflow_bench";  // server for `bench clickhouse`
  std::string sizes = "10000000,100000000,1000000000";                    // bench scale: trades in all, per size
  int markets = 708;                                                      // bench scale: markets generated
};

double Seconds(Clock::time_point t0);
double Median(std::vector<double> v);
// Resident set size of a process in MiB ("self" = this one).
double RssMiB(const std::string& pid = "self");
// Synthetic Kraken CSVs under `dir` (files x rows_per_file, over 5 years), unless it already holds some.
Status EnsureData(const std::string& dir, int files, std::uint64_t rows_per_file);
// Imports `data` into a new store at `location` (a SQLite file, or a ClickHouse database,
// dropped first); the rows imported.
Result<std::uint64_t> FreshImport(const std::string& location, const std::string& data);
// A store with one symbol (id 1) of a.rows trades, generated and imported once under a.dir.
Result<std::string> ScanStore(const Args& a);

// Where a paced stream's clock starts, as the gateway reports it: the event at
// `first` is due at `due` (steady clock, shared by the processes of a machine).
struct PaceAnchor {
  UnixNanos first;
  Clock::time_point due;
};
// Paced replay at 600x of 100 minutes from the middle of symbol 1: each
// callback's time minus its event's due time as the gateway computed it
// (`anchor`, asked once the stream ended), in microseconds.
struct Latency {
  std::size_t count = 0;
  double p50 = 0, p99 = 0, max = 0;
};
Result<Latency> PacedLatency(store::Store& store, client::Client& client,
                             const std::function<std::optional<PaceAnchor>()>& anchor);

// A child process, stopped (SIGTERM, then waited for) when this goes away; it
// dies with this process (SIGTERM) even if this one crashes.
class Child {
 public:
  // With `output`, its stdout and stderr go to that file.
  static Result<Child> Spawn(std::vector<std::string> args, const std::string& output = {});
  Child() = default;
  Child(Child&& o) noexcept;
  Child& operator=(Child&& o) noexcept;
  ~Child() { Stop(); }
  void Stop();
  // Waits for it to exit, at most `limit` (then kills it): its exit status (as
  // waitpid's) and max RSS in MiB; kUnavailable on the timeout.
  struct Exit {
    int status = 0;
    double max_rss_mib = 0;
  };
  Result<Exit> Wait(std::chrono::seconds limit);
  std::string pid() const { return std::to_string(pid_); }

 private:
  int pid_ = -1;
};

int BenchNats(const Args& a);
int BenchScale(const Args& a);
int BenchClickHouse(const Args& a);

}  // namespace tickflow::cli::bench
