#include "tickflow/backtest/threaded.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <mutex>
#include <thread>
#include <vector>

namespace tickflow::backtest {

// One ring of trades, written by the caller's thread and read by every worker:
// the data is decoded once however many workers there are. The producer owns
// tail_; each worker its head. Each side publishes its index with release and
// reads the other's with acquire; a side with nothing to do spins briefly,
// then sleeps (the reader 50 us; the writer, once the ring is full, 200 us
// at a time until half of it is free).
class ThreadedBacktester::Impl {
 public:
  Impl(std::vector<std::vector<RunSpec>> groups, const BacktestOptions& options, Options threading)
      : threading_(threading),
        ring_(std::bit_ceil(std::max<std::size_t>(threading.queue_trades, 1024))),
        mask_(ring_.size() - 1) {
    for (auto& g : groups) workers_.push_back(std::make_unique<Worker>(std::move(g), options));
    for (auto& w : workers_) w->thread = std::thread([this, wp = w.get()] { Consume(*wp); });
  }
  Impl(StrategyFactory factory, BacktestOptions options, Options threading)
      : threading_(threading),
        ring_(std::bit_ceil(std::max<std::size_t>(threading.queue_trades, 1024))),
        mask_(ring_.size() - 1) {
    workers_.push_back(std::make_unique<Worker>(std::move(factory), std::move(options)));
    workers_[0]->thread = std::thread([this, wp = workers_[0].get()] { Consume(*wp); });
  }

  ~Impl() {
    stop_.store(true, std::memory_order_release);
    for (auto& w : workers_) {
      if (w->thread.joinable()) w->thread.join();
    }
  }

  Status OnTrade(const Trade& t) {
    if (failed_.load(std::memory_order_acquire)) return Failure();
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - cached_min_head_ >= ring_.size()) TICKFLOW_RETURN_IF_ERROR(WaitForRoom(tail));
    ring_[tail & mask_] = t;
    tail_.store(tail + 1, std::memory_order_release);
    return {};
  }

  Status OnTrades(std::span<const Trade> trades) {
    if (failed_.load(std::memory_order_acquire)) return Failure();
    std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    while (!trades.empty()) {
      if (tail - cached_min_head_ >= ring_.size()) TICKFLOW_RETURN_IF_ERROR(WaitForRoom(tail));
      // As much as fits up to the ring's end and the slowest reader, in one copy.
      const std::uint64_t start = tail & mask_;
      const std::size_t n = static_cast<std::size_t>(
          std::min<std::uint64_t>({trades.size(), ring_.size() - start, ring_.size() - (tail - cached_min_head_)}));
      std::copy_n(trades.data(), n, ring_.data() + start);
      tail += n;
      tail_.store(tail, std::memory_order_release);
      trades = trades.subspan(n);
    }
    return {};
  }

  Result<Results> Finish() {
    done_.store(true, std::memory_order_release);
    for (auto& w : workers_) {
      if (w->thread.joinable()) w->thread.join();
    }
    if (failed_.load(std::memory_order_acquire)) return Failure().error();
    Results merged;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      auto r = workers_[i]->backtester.Finish();
      if (!r.ok()) return r.error();
      if (i == 0) {
        merged = std::move(*r);
      } else {
        for (auto& run : r->runs) merged.runs.push_back(std::move(run));
      }
    }
    return merged;
  }

 private:
  struct Worker {
    Worker(std::vector<RunSpec> runs, const BacktestOptions& options) : backtester(std::move(runs), options) {}
    Worker(StrategyFactory factory, BacktestOptions options) : backtester(std::move(factory), std::move(options)) {}
    Backtester backtester;
    alignas(64) std::atomic<std::uint64_t> head{0};
    std::thread thread;
  };

  // The ring is full: waits until half of it is free.
  Status WaitForRoom(std::uint64_t tail) {
    // Full: wait until half the ring is free, so that this thread (the
    // client's data thread) then runs a long burst rather than waking for
    // every few trades the strategy thread takes (on 2 cores the thread
    // switches cost more than the trades; tickflow bench backtest).
    const auto deadline = std::chrono::steady_clock::now() + threading_.stall;
    for (int spins = 0;; ++spins) {
      cached_min_head_ = MinHead();
      if (tail - cached_min_head_ <= ring_.size() / 2) break;
      if (failed_.load(std::memory_order_acquire)) return Failure();
      if (spins > 64) {
        if (std::chrono::steady_clock::now() > deadline) {
          return MakeError(ErrorCode::kUnavailable, "the strategy thread made no progress for " +
                                                        std::to_string(threading_.stall.count()) +
                                                        " ms (a strategy stuck in a callback?)");
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
    return {};
  }

  std::uint64_t MinHead() const {
    std::uint64_t m = ~std::uint64_t{0};
    for (const auto& w : workers_) m = std::min(m, w->head.load(std::memory_order_acquire));
    return m;
  }

  void Consume(Worker& w) {
    std::uint64_t head = 0;
    int idle = 0;
    while (!stop_.load(std::memory_order_acquire)) {
      const std::uint64_t tail = tail_.load(std::memory_order_acquire);
      if (head == tail) {
        if (done_.load(std::memory_order_acquire) && tail_.load(std::memory_order_acquire) == head) return;
        if (failed_.load(std::memory_order_acquire)) return;
        if (++idle > 64) std::this_thread::sleep_for(std::chrono::microseconds(50));
        continue;
      }
      idle = 0;
      while (head != tail) {
        // Contiguous chunks of at most 256 trades: the producer learns of the
        // room after each.
        const std::uint64_t start = head & mask_;
        const std::uint64_t n = std::min<std::uint64_t>({tail - head, ring_.size() - start, 256});
        if (Status s = w.backtester.OnTrades({ring_.data() + start, static_cast<std::size_t>(n)}); !s.ok()) {
          {
            std::lock_guard lock(mu_);
            if (failure_.ok()) failure_ = std::move(s);
          }
          failed_.store(true, std::memory_order_release);
          w.head.store(~std::uint64_t{0} >> 1, std::memory_order_release);  // never holds the producer back again
          return;
        }
        head += n;
        w.head.store(head, std::memory_order_release);
      }
    }
  }

  Status Failure() {
    std::lock_guard lock(mu_);
    return failure_;
  }

  Options threading_;
  std::vector<Trade> ring_;
  std::uint64_t mask_;
  std::vector<std::unique_ptr<Worker>> workers_;
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  alignas(64) std::uint64_t cached_min_head_ = 0;
  std::atomic<bool> done_{false}, stop_{false}, failed_{false};
  std::mutex mu_;
  Status failure_;
};

ThreadedBacktester::ThreadedBacktester(StrategyFactory factory, BacktestOptions options)
    : ThreadedBacktester(std::move(factory), std::move(options), Options{}) {}
ThreadedBacktester::ThreadedBacktester(StrategyFactory factory, BacktestOptions options, Options threading)
    : impl_(std::make_unique<Impl>(std::move(factory), std::move(options), threading)) {}
ThreadedBacktester::ThreadedBacktester(std::vector<RunSpec> runs, const BacktestOptions& options, std::size_t workers,
                                       Options threading) {
  workers = std::clamp<std::size_t>(workers, 1, std::max<std::size_t>(1, runs.size()));
  std::vector<std::vector<RunSpec>> groups(workers);
  const std::size_t per = (runs.size() + workers - 1) / workers;  // contiguous shares keep the runs' order
  for (std::size_t i = 0; i < runs.size(); ++i) groups[i / per].push_back(std::move(runs[i]));
  std::erase_if(groups, [](const auto& g) { return g.empty(); });
  impl_ = std::make_unique<Impl>(std::move(groups), options, threading);
}
ThreadedBacktester::~ThreadedBacktester() = default;
Status ThreadedBacktester::OnTrade(const Trade& trade) { return impl_->OnTrade(trade); }
Status ThreadedBacktester::OnTrades(std::span<const Trade> trades) { return impl_->OnTrades(trades); }
Result<Results> ThreadedBacktester::Finish() { return impl_->Finish(); }

}  // namespace tickflow::backtest
