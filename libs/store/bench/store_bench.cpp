// Block codec micro-benchmark. The end-to-end scan benchmark against a flat
// mmap'd file is `tickflow bench scan` (docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <array>
#include <string>
#include <vector>

#include "../src/block_codec.hpp"
#include "../src/validate.hpp"
#include "tickflow/store/store.hpp"

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

// In-memory trades handed out as views of up to 32 Ki, like a decoded block.
class MemoryCursor final : public TradeCursor {
 public:
  explicit MemoryCursor(std::span<const Trade> trades) : rest_(trades) {}
  Result<std::size_t> Next(std::span<Trade> out) override {
    const std::size_t n = std::min(out.size(), rest_.size());
    std::copy_n(rest_.begin(), n, out.begin());
    rest_ = rest_.subspan(n);
    return n;
  }
  Result<std::span<const Trade>> NextView() override {
    const auto view = rest_.first(std::min(rest_.size(), kBlockTrades));
    rest_ = rest_.subspan(view.size());
    return view;
  }

 private:
  std::span<const Trade> rest_;
};

// Merging Arg(0) markets of 4 Mi trades in all, interleaved in time in bursts
// of Arg(1) trades (trade i goes to market (i / burst) % markets; 1 is the
// worst case, every trade from another market), read through MergeTrades in
// batches of 4,096, per trade. One market is the baseline: the same trades
// from one cursor, through the same merge.
void BM_MergeTrades(benchmark::State& state) {
  const auto markets = static_cast<std::size_t>(state.range(0));
  const auto burst = static_cast<std::size_t>(state.range(1));
  constexpr std::size_t kTotal = 1 << 22;
  std::vector<std::vector<Trade>> per(markets);
  for (std::size_t i = 0; i < kTotal; ++i) {
    per[(i / burst) % markets].push_back(Trade{UnixNanos{1561939200000000000LL + static_cast<std::int64_t>(i) * 1000},
                                               Decimal::FromRaw(16 * static_cast<std::int64_t>(i)),
                                               Decimal::FromRaw(16), static_cast<SymbolId>((i / burst) % markets)});
  }
  std::vector<Trade> out(4096);
  std::int64_t sum = 0;
  for (auto _ : state) {
    std::vector<std::unique_ptr<TradeCursor>> cursors;
    for (const auto& m : per) cursors.push_back(std::make_unique<MemoryCursor>(m));
    auto merged = MergeTrades(std::move(cursors));
    while (true) {
      const std::size_t n = merged->Next(out).value();
      if (n == 0) break;
      for (std::size_t k = 0; k < n; ++k) sum += out[k].price.raw();
      benchmark::DoNotOptimize(out.data());
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kTotal));
}
BENCHMARK(BM_MergeTrades)
    ->Args({1, 1})
    ->Args({16, 1})
    ->Args({708, 1})
    ->Args({708, 8})
    ->Args({708, 64})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tickflow::store::detail
