// What a decoded row may hold: only what the importer accepts. A store that
// hands out anything else (a negative volume, more digits than the market ever
// had, time going backwards) is damaged, and readers fail naming it instead of
// passing wrong numbers on. Both backends check every row they decode.
#pragma once

#include <span>
#include <string>

#include "tickflow/store/store.hpp"

namespace tickflow::store::detail {

struct ValueLimits {
  int price_scale = Decimal::kMaxScale;   // most digits after the point in the market's prices
  int volume_scale = Decimal::kMaxScale;  // and volumes
};
inline ValueLimits LimitsOf(const SymbolInfo& s) { return {s.price_scale, s.volume_scale}; }

// Empty when every row is valid; else what is wrong with the first bad one.
// Trades: price and volume > 0 within the limits' digits, times non-decreasing.
std::string CheckTrades(std::span<const Trade> trades, ValueLimits limits);
// Bars: whole-minute times, strictly increasing; prices > 0 within the digits,
// low <= open, close <= high; volume > 0; at least one trade.
std::string CheckBars(std::span<const Bar> bars, ValueLimits limits);

// The 64-bit checksum (XXH3) of a stored block: its key, times, row count and blobs.
std::uint64_t BlockChecksum(std::int64_t key, std::int64_t first_ts, std::int64_t last_ts, std::int64_t count,
                            std::span<const std::string_view> blobs);

}  // namespace tickflow::store::detail
