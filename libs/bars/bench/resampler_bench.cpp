// Trades -> bars per trade. Run: build/release/libs/bars/bars_bench
#include <benchmark/benchmark.h>

#include <vector>

#include "tickflow/bars/resampler.hpp"

namespace tickflow::bars {
namespace {

void BM_ResampleTrades(benchmark::State& state) {
  std::vector<Trade> trades(1 << 16);
  std::int64_t t = 1561939200LL * kNanosPerSecond;
  for (std::size_t i = 0; i < trades.size(); ++i) {
    t += 700 * 1000000LL;
    (void)Decimal::FromParts(1074940 + static_cast<std::int64_t>(i % 97), 2, &trades[i].price);
    (void)Decimal::FromParts(3869709 + static_cast<std::int64_t>(i % 13), 8, &trades[i].volume);
    trades[i].time = UnixNanos{t};
  }
  const auto res = static_cast<TimeResolution>(state.range(0));
  for (auto _ : state) {
    Resampler r(res);
    Bar done;
    std::uint64_t n = 0;
    for (const Trade& tr : trades) n += r.Add(tr, &done) == AddStatus::kBarDone;
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(trades.size()));
}
BENCHMARK(BM_ResampleTrades)->Arg(1)->Arg(5)->Arg(8);

// The volume sum alone, 64-bit Decimal (the baseline) against the 128-bit
// WideDecimal bars now carry; the sum is kept alive.
template <class Sum>
void BM_SumVolumes(benchmark::State& state) {
  std::vector<Decimal> v(1 << 16);
  for (std::size_t i = 0; i < v.size(); ++i) (void)Decimal::FromParts(3869709 + static_cast<std::int64_t>(i % 13), 8, &v[i]);
  for (auto _ : state) {
    Sum sum;
    for (const Decimal d : v) {
      if (!Sum::Add(sum, d, &sum)) state.SkipWithError("overflow");
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(v.size()));
}
BENCHMARK(BM_SumVolumes<Decimal>);
BENCHMARK(BM_SumVolumes<WideDecimal>);

}  // namespace
}  // namespace tickflow::bars
