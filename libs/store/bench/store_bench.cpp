// Block codec micro-benchmark. The end-to-end scan benchmark against a flat
// mmap'd file is `tickflow bench scan` (docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <array>
#include <string>
#include <vector>

#include "../src/block_codec.hpp"
#include "../src/validate.hpp"

namespace tickflow::store::detail {
namespace {

// One block as the importer writes it: 32 Ki trades, 0.7 s apart.
struct Block {
  Block() {
    std::vector<UnixNanos> t(kBlockTrades);
    std::vector<Decimal> p(kBlockTrades), v(kBlockTrades);
    for (std::size_t i = 0; i < kBlockTrades; ++i) {
      t[i] = UnixNanos{1561939200000000000LL + static_cast<std::int64_t>(i) * 700000000LL};
      (void)Decimal::FromParts(1074940 + static_cast<std::int64_t>(i % 97) - 48, 1, &p[i]);
      (void)Decimal::FromParts(3869709 + static_cast<std::int64_t>(i * 7919 % 100000), 8, &v[i]);
    }
    EncodeBlock(t, p, v, &b);
  }
  EncodedBlock b;
};

// Decoding alone: the baseline for the checks below.
void BM_DecodeBlock(benchmark::State& state) {
  const Block block;
  const EncodedBlock& b = block.b;
  std::vector<Trade> out(kBlockTrades);
  for (auto _ : state) {
    auto s = DecodeBlock(b.first_time, b.count, b.time, b.price, b.volume, 1, out.data());
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBlockTrades));
}
BENCHMARK(BM_DecodeBlock);

// What every SQLite block read does now: verify the checksum, decode, validate the rows.
void BM_DecodeVerifiedBlock(benchmark::State& state) {
  const Block block;
  const EncodedBlock& b = block.b;
  const std::array<std::string_view, 3> blobs = {b.time, b.price, b.volume};
  const std::uint64_t expected = BlockChecksum(1, b.first_time.ns, b.last_time.ns, b.count, blobs);
  std::vector<Trade> out(kBlockTrades);
  const ValueLimits limits{1, 8};
  for (auto _ : state) {
    if (BlockChecksum(1, b.first_time.ns, b.last_time.ns, b.count, blobs) != expected) state.SkipWithError("checksum");
    auto s = DecodeBlock(b.first_time, b.count, b.time, b.price, b.volume, 1, out.data());
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.data());
    std::string bad = CheckTrades(out, limits);
    if (!bad.empty()) state.SkipWithError(bad.c_str());
    benchmark::DoNotOptimize(bad.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBlockTrades));
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(b.time.size() + b.price.size() + b.volume.size()));
}
BENCHMARK(BM_DecodeVerifiedBlock);

// The checksum alone, over the block's blobs (bytes/s against memory bandwidth).
void BM_BlockChecksum(benchmark::State& state) {
  const Block block;
  const EncodedBlock& b = block.b;
  const std::array<std::string_view, 3> blobs = {b.time, b.price, b.volume};
  for (auto _ : state) {
    std::uint64_t h = BlockChecksum(1, b.first_time.ns, b.last_time.ns, b.count, blobs);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBlockTrades));
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(b.time.size() + b.price.size() + b.volume.size()));
}
BENCHMARK(BM_BlockChecksum);

}  // namespace
}  // namespace tickflow::store::detail
