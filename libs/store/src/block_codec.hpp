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

// The same, in pieces from the front, so a reader holds a piece of a block
// decoded instead of all of it (a merge of 708 markets holds one per market).
// The columns are not copied: they must outlive the decoding.
class TradeBlockDecoder {
 public:
  // Checks the columns' headers and sizes; kCorrupt if damaged.
  Status Start(UnixNanos first_time, std::uint32_t count, std::string_view time, std::string_view price,
               std::string_view volume, SymbolId symbol);
  // Decodes the next min(n, left()) trades into out; returns how many.
  std::size_t Next(std::size_t n, Trade* out);
  std::uint32_t left() const { return count_ - next_; }

 private:
  const unsigned char* tb_ = nullptr;
  const unsigned char* pb_ = nullptr;
  const unsigned char* vb_ = nullptr;
  int tw_ = 0, pw_ = 0, vw_ = 0;
  std::int64_t unit_ = 1;
  std::int64_t t_ = 0, p_ = 0;  // the last decoded time and price bits
  std::uint32_t count_ = 0, next_ = 0;
  SymbolId symbol_ = 0;
};

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
