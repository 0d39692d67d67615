#include "tickflow/bars/resampler.hpp"

#include "tickflow/core/check.hpp"

namespace tickflow::bars {

Resampler::Resampler(TimeResolution res) : res_(res) {
  TICKFLOW_CHECK(IsValid(res), "Resampler needs a valid resolution");
}

AddStatus Resampler::Add(const Bar& b, Bar* done) {
  return Merge(b.time, b.open, b.high, b.low, b.close, b.volume, b.trades, done);
}

AddStatus Resampler::Merge(UnixNanos time, Decimal open, Decimal high, Decimal low, Decimal close,
                           WideDecimal volume, std::uint64_t trades, Bar* done) {
  if (active_ && time < current_.time) return AddStatus::kOutOfOrder;
  if (active_ && time < bucket_end_) {
    // Straight into the bar, as Add(Trade) does.
    if (!WideDecimal::Add(current_.volume, volume, &current_.volume)) return AddStatus::kVolumeOverflow;
    if (high > current_.high) current_.high = high;
    if (low < current_.low) current_.low = low;
    current_.close = close;
    current_.trades += trades;
    return AddStatus::kPending;
  }
  const bool finished = active_;
  if (finished) *done = current_;
  current_ = Bar{BucketStart(time, res_), open, high, low, close, volume, trades};
  bucket_end_ = NextBucketStart(time, res_);
  active_ = true;
  return finished ? AddStatus::kBarDone : AddStatus::kPending;
}

bool Resampler::Flush(Bar* done) {
  if (!active_) return false;
  *done = current_;
  active_ = false;
  return true;
}

}  // namespace tickflow::bars
