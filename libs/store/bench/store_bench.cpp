// Block codec micro-benchmark. The end-to-end scan benchmark against a flat
// mmap'd file is `tickflow bench scan` (docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <vector>

#include "../src/block_codec.hpp"

namespace tickflow::store::detail {
namespace {

void BM_DecodeBlock(benchmark::State& state) {
  std::vector<UnixNanos> t(kBlockTrades);
  std::vector<Decimal> p(kBlockTrades), v(kBlockTrades);
  for (std::size_t i = 0; i < kBlockTrades; ++i) {
    t[i] = UnixNanos{1561939200000000000LL + static_cast<std::int64_t>(i) * 700000000LL};
    (void)Decimal::FromParts(1074940 + static_cast<std::int64_t>(i % 97) - 48, 1, &p[i]);
    (void)Decimal::FromParts(3869709 + static_cast<std::int64_t>(i * 7919 % 100000), 8, &v[i]);
  }
  EncodedBlock b;
  EncodeBlock(t, p, v, &b);
  std::vector<Trade> out(kBlockTrades);
  for (auto _ : state) {
    auto s = DecodeBlock(b.first_time, b.count, b.time, b.price, b.volume, 1, out.data());
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBlockTrades));
}
BENCHMARK(BM_DecodeBlock);

}  // namespace
}  // namespace tickflow::store::detail
