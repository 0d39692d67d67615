// Encode and decode of one TradeBar (40 bytes), the hot-path message.
// Run: build/release/libs/sbe/sbe_bench
#include <benchmark/benchmark.h>

#include <array>

#include "tickflow/sbe/codec.hpp"

namespace tickflow::sbe {
namespace {

TradeBar Sample() {
  Decimal price, volume;
  (void)Decimal::Parse("10749.4", &price);
  (void)Decimal::Parse("0.03869709", &volume);
  return TradeBar{1, 1, UnixNanos{1561939203172000000}, price, volume};
}

void BM_EncodeTradeBar(benchmark::State& state) {
  alignas(64) std::array<std::byte, 64> buf{};
  TradeBar t = Sample();
  for (auto _ : state) {
    ++t.sequence;
    benchmark::DoNotOptimize(Encode(t, buf));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_EncodeTradeBar);

void BM_DecodeTradeBar(benchmark::State& state) {
  alignas(64) std::array<std::byte, 64> buf{};
  (void)Encode(Sample(), buf);
  TradeBar t;
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf);
    auto s = Decode(std::span<const std::byte>(buf), &t);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_DecodeTradeBar);

// Decoding a whole frame of 256 trades, per message.
void BM_DecodeFrameOf256Trades(benchmark::State& state) {
  std::array<std::byte, 256 * 40 + 16> buf{};
  FrameWriter w(buf);
  (void)w.Append(DataBatch{1, 256});
  TradeBar t = Sample();
  for (int i = 0; i < 256; ++i) (void)w.Append(t);
  std::int64_t sum = 0;
  for (auto _ : state) {
    FrameReader r(w.frame());
    MessageView v;
    while (!r.done() && r.Next(&v) == DecodeStatus::kOk) {
      if (v.type() == MessageType::kTradeBar && v.As(&t) == DecodeStatus::kOk) sum += t.price.raw();
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * 257);
}
BENCHMARK(BM_DecodeFrameOf256Trades);

}  // namespace
}  // namespace tickflow::sbe
