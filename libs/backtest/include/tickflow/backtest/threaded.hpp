// Backtesters on their own threads, behind the thread that receives the data
// (the client's data thread): that thread only copies each trade into a
// bounded single-producer single-consumer queue, so replay and strategy run
// in parallel (docs/benchmarks.md, "Backtest vs pure replay").
#pragma once

#include <chrono>
#include <memory>
#include <span>

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
  // Runs spread over `workers` threads (each a Backtester over a contiguous share
  // of the runs), all reading one queue: the data is decoded once however many
  // runs there are. Results come back in the runs' order.
  ThreadedBacktester(std::vector<RunSpec> runs, const BacktestOptions& options, std::size_t workers,
                     Options threading);
  ~ThreadedBacktester();  // stops and joins the thread
  ThreadedBacktester(const ThreadedBacktester&) = delete;
  ThreadedBacktester& operator=(const ThreadedBacktester&) = delete;

  // From one thread only. Errors: the backtest failed (its first error, e.g.
  // trades out of order), or the strategy thread made no room for `stall`.
  Status OnTrade(const Trade& trade);
  // The same for several trades in order (e.g. a client::TradeBatch): one call
  // and one publication of the queue's tail per chunk instead of per trade.
  Status OnTrades(std::span<const Trade> trades);
  // Waits for the queued trades (as long as they take), then the results.
  Result<Results> Finish();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickflow::backtest
