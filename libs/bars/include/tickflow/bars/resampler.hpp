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

  // Inline for a trade inside the current bar, the common case (the backtester
  // adds every trade); a new bucket goes through Merge.
  AddStatus Add(const Trade& trade, Bar* done) {
    if (active_ && trade.time < bucket_end_ && trade.time >= current_.time) {
      // Straight into the bar (Add writes only on success): a sum on the stack
      // copied over as one 16-byte move stalls on store forwarding (perf annotate).
      if (!WideDecimal::Add(current_.volume, trade.volume, &current_.volume)) return AddStatus::kVolumeOverflow;
      if (trade.price > current_.high) current_.high = trade.price;
      if (trade.price < current_.low) current_.low = trade.price;
      current_.close = trade.price;
      ++current_.trades;
      return AddStatus::kPending;
    }
    return Merge(trade.time, trade.price, trade.price, trade.price, trade.price, trade.volume, 1, done);
  }
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
