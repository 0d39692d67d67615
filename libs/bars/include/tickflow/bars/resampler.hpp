// Streaming OHLCV resampler, calendar aligned (UTC; see core/resolution.hpp).
// Feed trades (or finer bars) in non-decreasing time order; each time an input
// falls into a new bucket the finished bar is handed out. Aggregating bars from
// 1-minute bars gives exactly the bars computed from the trades (tested).
// Hot path: no allocation, no exceptions. Not thread-safe; one per stream.
#pragma once

#include "tickflow/core/market.hpp"
#include "tickflow/core/resolution.hpp"

namespace tickflow::bars {

enum class [[nodiscard]] AddStatus : std::uint8_t {
  kPending,         // the input joined the current bar
  kBarDone,         // *done holds the bar finished by this input
  kOutOfOrder,      // the input is earlier than the current bucket; ignored
  kVolumeOverflow,  // the volume sum does not fit a WideDecimal (37 digits); ignored
};

class Resampler {
 public:
  explicit Resampler(TimeResolution res);

  AddStatus Add(const Trade& trade, Bar* done);
  // Adds a finer bar (its time must be a bucket start of a finer resolution).
  AddStatus Add(const Bar& bar, Bar* done);
  // Hands out the bar in progress, if any, and resets.
  bool Flush(Bar* done);

  TimeResolution resolution() const { return res_; }

 private:
  AddStatus Merge(UnixNanos time, Decimal open, Decimal high, Decimal low, Decimal close, WideDecimal volume,
                  std::uint64_t trades, Bar* done);

  TimeResolution res_;
  Bar current_{};
  UnixNanos bucket_end_{UnixNanos::Min()};
  bool active_ = false;
};

}  // namespace tickflow::bars
