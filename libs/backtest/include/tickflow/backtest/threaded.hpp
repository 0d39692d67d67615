// A Backtester on its own thread, behind the thread that receives the data
// (the client's data thread): that thread only copies each trade into a
// bounded single-producer single-consumer queue, so replay and strategy run
// in parallel (docs/benchmarks.md, "Backtest vs pure replay").
#pragma once

#include <chrono>
#include <memory>

#include "tickflow/backtest/backtest.hpp"

namespace tickflow::backtest {

class ThreadedBacktester {
 public:
  struct Options {
    std::size_t queue_trades = 1 << 16;             // rounded up to a power of two
    std::chrono::milliseconds stall{60000};         // the longest OnTrade waits for room
  };
  ThreadedBacktester(StrategyFactory factory, BacktestOptions options);
  ThreadedBacktester(StrategyFactory factory, BacktestOptions options, Options threading);
  ~ThreadedBacktester();  // stops and joins the thread
  ThreadedBacktester(const ThreadedBacktester&) = delete;
  ThreadedBacktester& operator=(const ThreadedBacktester&) = delete;

  // From one thread only. Errors: the backtest failed (its first error, e.g.
  // trades out of order), or the strategy thread made no room for `stall`.
  Status OnTrade(const Trade& trade);
  // Waits for the queued trades (as long as they take), then the results.
  Result<Results> Finish();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickflow::backtest
