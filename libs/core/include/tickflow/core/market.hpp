// Market data values shared by the store, the resampler, the importer and the
// wire: a trade and an OHLCV bar, both exact (see decimal.hpp).
#pragma once

#include <cstdint>

#include "tickflow/core/decimal.hpp"
#include "tickflow/core/ids.hpp"
#include "tickflow/core/time.hpp"
#include "tickflow/core/wide_decimal.hpp"

namespace tickflow {

struct Trade {
  UnixNanos time;
  Decimal price;
  Decimal volume;
  SymbolId symbol = 0;
};

// OHLCV rules (DESIGN §3): open = first trade, close = last trade, high/low =
// extremes (the first trade reaching the extreme gives its representation),
// volume = exact sum, trades = count; time = bucket start. Bars without trades
// do not exist.
struct Bar {
  UnixNanos time;
  Decimal open, high, low, close;
  WideDecimal volume;  // an exact sum of trade volumes: may exceed Decimal's range
  std::uint64_t trades = 0;

  friend bool operator==(const Bar& a, const Bar& b) {
    return a.time == b.time && a.open.SameRepresentation(b.open) && a.high.SameRepresentation(b.high) &&
           a.low.SameRepresentation(b.low) && a.close.SameRepresentation(b.close) &&
           a.volume.SameRepresentation(b.volume) && a.trades == b.trades;
  }
};

}  // namespace tickflow
