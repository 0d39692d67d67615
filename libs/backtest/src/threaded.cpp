#include "tickflow/backtest/threaded.hpp"

#include <atomic>
#include <bit>
#include <mutex>
#include <thread>
#include <vector>

namespace tickflow::backtest {

// The queue: a ring of trades; the producer owns tail_, the consumer head_.
// Each side publishes its index with release and reads the other's with
// acquire; a side with nothing to do spins briefly, then sleeps 50 us.
class ThreadedBacktester::Impl {
 public:
  Impl(StrategyFactory factory, BacktestOptions options, Options threading)
      : backtester_(std::move(factory), std::move(options)),
        threading_(threading),
        ring_(std::bit_ceil(std::max<std::size_t>(threading.queue_trades, 1024))),
        mask_(ring_.size() - 1),
        thread_([this] { Consume(); }) {}

  ~Impl() {
    stop_.store(true, std::memory_order_release);
    if (thread_.joinable()) thread_.join();
  }

  Status OnTrade(const Trade& t) {
    if (failed_.load(std::memory_order_acquire)) return Failure();
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - cached_head_ >= ring_.size()) {
      const auto deadline = std::chrono::steady_clock::now() + threading_.stall;
      for (int spins = 0;; ++spins) {
        cached_head_ = head_.load(std::memory_order_acquire);
        if (tail - cached_head_ < ring_.size()) break;
        if (failed_.load(std::memory_order_acquire)) return Failure();
        if (spins > 64) {
          if (std::chrono::steady_clock::now() > deadline) {
            return MakeError(ErrorCode::kUnavailable,
                             "the strategy thread made no progress for " + std::to_string(threading_.stall.count()) +
                                 " ms (a strategy stuck in a callback?)");
          }
          std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
      }
    }
    ring_[tail & mask_] = t;
    tail_.store(tail + 1, std::memory_order_release);
    return {};
  }

  Result<Results> Finish() {
    done_.store(true, std::memory_order_release);
    if (thread_.joinable()) thread_.join();
    if (failed_.load(std::memory_order_acquire)) return Failure().error();
    return backtester_.Finish();
  }

 private:
  void Consume() {
    std::uint64_t head = 0;
    int idle = 0;
    while (!stop_.load(std::memory_order_acquire)) {
      const std::uint64_t tail = tail_.load(std::memory_order_acquire);
      if (head == tail) {
        if (done_.load(std::memory_order_acquire) && tail_.load(std::memory_order_acquire) == head) return;
        if (++idle > 64) std::this_thread::sleep_for(std::chrono::microseconds(50));
        continue;
      }
      idle = 0;
      for (; head != tail; ++head) {
        if (Status s = backtester_.OnTrade(ring_[head & mask_]); !s.ok()) {
          {
            std::lock_guard lock(mu_);
            failure_ = std::move(s);
          }
          failed_.store(true, std::memory_order_release);
          head_.store(tail, std::memory_order_release);  // drop the rest: the run has failed
          return;
        }
        if ((head & 255) == 0) head_.store(head + 1, std::memory_order_release);
      }
      head_.store(head, std::memory_order_release);
    }
  }

  Status Failure() {
    std::lock_guard lock(mu_);
    return failure_;
  }

  Backtester backtester_;
  Options threading_;
  std::vector<Trade> ring_;
  std::uint64_t mask_;
  alignas(64) std::atomic<std::uint64_t> head_{0};
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  alignas(64) std::uint64_t cached_head_ = 0;
  std::atomic<bool> done_{false}, stop_{false}, failed_{false};
  std::mutex mu_;
  Status failure_;
  std::thread thread_;  // last: starts once everything above exists
};

ThreadedBacktester::ThreadedBacktester(StrategyFactory factory, BacktestOptions options)
    : ThreadedBacktester(std::move(factory), std::move(options), Options{}) {}
ThreadedBacktester::ThreadedBacktester(StrategyFactory factory, BacktestOptions options, Options threading)
    : impl_(std::make_unique<Impl>(std::move(factory), std::move(options), threading)) {}
ThreadedBacktester::~ThreadedBacktester() = default;
Status ThreadedBacktester::OnTrade(const Trade& trade) { return impl_->OnTrade(trade); }
Result<Results> ThreadedBacktester::Finish() { return impl_->Finish(); }

}  // namespace tickflow::backtest
