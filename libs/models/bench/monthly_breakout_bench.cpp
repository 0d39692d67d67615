// The breakout model per observation, context update included (goal <= 50 ns).
// Run: build/release/libs/models/models_bench
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "tickflow/models/monthly_breakout.hpp"

namespace tickflow::models {
namespace {

void BM_BreakoutPerTrade(benchmark::State& state) {
  std::mt19937_64 rng(1);
  std::vector<std::pair<UnixNanos, Decimal>> trades(1 << 20);
  std::int64_t t = 1577836800LL * kNanosPerSecond, p = 800000;
  for (auto& tr : trades) {
    t += static_cast<std::int64_t>(rng() % (60 * kNanosPerSecond));  // ~2 years of trades
    p = std::max<std::int64_t>(1000, p + static_cast<std::int64_t>(rng() % 201) - 100);
    (void)Decimal::FromParts(p, 1, &tr.second);
    tr.first = UnixNanos{t};
  }
  std::int64_t detections = 0;
  for (auto _ : state) {
    state.PauseTiming();
    MonthlyBreakoutModel m;
    state.ResumeTiming();
    for (const auto& [time, price] : trades) detections += m.OnTrade(time, price).value();
  }
  benchmark::DoNotOptimize(detections);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(trades.size()));
}
BENCHMARK(BM_BreakoutPerTrade)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tickflow::models
