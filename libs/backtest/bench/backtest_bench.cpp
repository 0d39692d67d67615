// The backtester per trade, without replay: a strategy that does nothing, then
// the shipped ones, with one execution model and with all three in one pass.
// Run: build/release/libs/backtest/backtest_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "tickflow/backtest/backtest.hpp"
#include "tickflow/backtest/strategies.hpp"

namespace tickflow::backtest {
namespace {

const std::vector<Trade>& Tape() {
  static const std::vector<Trade> trades = [] {
    std::mt19937_64 rng(1);
    std::vector<Trade> out(1 << 20);
    std::int64_t t = 1577836800LL * kNanosPerSecond, p = 800000;
    for (auto& tr : out) {
      t += static_cast<std::int64_t>(rng() % (60 * kNanosPerSecond));  // ~2 years of trades
      p = std::max<std::int64_t>(1000, p + static_cast<std::int64_t>(rng() % 201) - 100);
      // Trailing zeros dropped, as in Kraken's CSVs ("9557.4", "9557"): prices of mixed scales.
      (void)Decimal::FromParts(p % 10 == 0 ? p / 10 : p, p % 10 == 0 ? 0 : 1, &tr.price);
      (void)Decimal::FromParts(static_cast<std::int64_t>(rng() % 100000) + 1, 4, &tr.volume);
      tr.time = UnixNanos{t};
      tr.symbol = 1;
    }
    return out;
  }();
  return trades;
}

class Idle final : public Strategy {
 public:
  std::string name() const override { return "idle"; }
};

void Run(benchmark::State& state, const StrategyFactory& make, std::vector<ExecutionModel> models) {
  const auto& trades = Tape();
  std::uint64_t fills = 0;
  for (auto _ : state) {
    state.PauseTiming();
    BacktestOptions o;
    o.models = models;
    Backtester bt(make, o);
    state.ResumeTiming();
    // In chunks of 256, as ThreadedBacktester hands over its queue.
    for (std::size_t i = 0; i < trades.size(); i += 256) {
      const std::size_t n = std::min<std::size_t>(256, trades.size() - i);
      if (!bt.OnTrades({trades.data() + i, n}).ok()) state.SkipWithError("OnTrades failed");
    }
    auto r = bt.Finish();
    if (!r.ok()) state.SkipWithError("Finish failed");
    fills += r->main().fills.size();
    benchmark::DoNotOptimize(r->main().fills.data());
  }
  state.counters["fills"] = static_cast<double>(fills) / static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(trades.size()));
}

std::vector<ExecutionModel> One() { return {{"optimistic", FillRule::kTouch, {}}}; }
std::vector<ExecutionModel> All() {
  ExecutionModel delayed{"latency", FillRule::kConservative, {}};
  delayed.latency.order_entry = std::chrono::milliseconds(50);
  return {{"optimistic", FillRule::kTouch, {}}, {"conservative", FillRule::kConservative, {}}, delayed};
}

void BM_IdleOneModel(benchmark::State& s) { Run(s, [] { return std::make_unique<Idle>(); }, One()); }
void BM_IdleThreeModels(benchmark::State& s) { Run(s, [] { return std::make_unique<Idle>(); }, All()); }
void BM_BreakoutOneModel(benchmark::State& s) { Run(s, [] { return std::make_unique<BreakoutStrategy>(); }, One()); }
void BM_BreakoutThreeModels(benchmark::State& s) { Run(s, [] { return std::make_unique<BreakoutStrategy>(); }, All()); }
void BM_SmaOneModel(benchmark::State& s) { Run(s, [] { return std::make_unique<SmaCrossStrategy>(); }, One()); }
void BM_SmaThreeModels(benchmark::State& s) { Run(s, [] { return std::make_unique<SmaCrossStrategy>(); }, All()); }
BENCHMARK(BM_IdleOneModel)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IdleThreeModels)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BreakoutOneModel)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BreakoutThreeModels)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SmaOneModel)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SmaThreeModels)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tickflow::backtest
