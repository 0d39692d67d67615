// Columnar trade and bar blocks (the SQLite backend's storage units).
// Trades: three bit-packed columns per block (docs/storage.md): time deltas in
// the coarsest unit (s, ms, us, ns) that divides them all, price as zigzag
// deltas of the Decimal bits, volume as zigzag Decimal bits. Each column is
// packed at the bit width of its largest value, so decoding is branch-free.
// Decoding is bounds-checked: a damaged blob is kCorrupt, never a crash.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "tickflow/core/market.hpp"
#include "tickflow/core/result.hpp"

namespace tickflow::store::detail {

inline constexpr std::size_t kBlockTrades = 32768;
inline constexpr std::size_t kBlockBars = 32768;

struct EncodedBlock {
  UnixNanos first_time;
  UnixNanos last_time;
  std::uint32_t count = 0;
  std::string time;
  std::string price;
  std::string volume;
};

void EncodeBlock(std::span<const UnixNanos> time, std::span<const Decimal> price,
                 std::span<const Decimal> volume, EncodedBlock* out);

// Decodes `count` trades into out[0..count).
Status DecodeBlock(UnixNanos first_time, std::uint32_t count, std::string_view time, std::string_view price,
                   std::string_view volume, SymbolId symbol, Trade* out);

// 1-minute bars, interleaved in one blob per block after a format byte (1):
// per bar the minutes since the previous bar, open as a delta from the
// previous close, high, low and close as deltas from the open (all on the
// Decimal bits, zigzag varints), the WideDecimal volume bits as two varints
// (low and high 64 bits of the zigzag value), and the trade count. Blobs
// without the format byte (before 128-bit volumes) carry one volume varint
// and are still read. Bar times must be whole minutes.
void EncodeBarBlock(std::span<const Bar> bars, std::string* out);
Status DecodeBarBlock(UnixNanos first_time, std::uint32_t count, std::string_view blob, Bar* out);

}  // namespace tickflow::store::detail
