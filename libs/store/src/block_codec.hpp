// Columnar trade blocks (the SQLite backend's storage unit). Three blobs per
// block: times as varint deltas from the block's first time, prices as
// zigzag varint deltas of the Decimal bits, volumes as zigzag varints of the
// Decimal bits. Decoding is bounds-checked: a damaged blob is kCorrupt.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "tickflow/core/market.hpp"
#include "tickflow/core/result.hpp"

namespace tickflow::store::detail {

inline constexpr std::size_t kBlockTrades = 32768;

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

}  // namespace tickflow::store::detail
