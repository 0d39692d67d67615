// The rule both backends apply to 1-minute bars arriving at an import: whole
// minutes in time order, and a bar for the minute already last in `pending`
// (the minute of the last stored trade, or one split across chunks) is merged
// into it, the stored part first.
#pragma once

#include <vector>

#include "tickflow/core/market.hpp"
#include "tickflow/core/result.hpp"

namespace tickflow::store::detail {

inline Status AppendMinuteBar(std::vector<Bar>* pending, const Bar& b) {
  if (b.time.ns % kNanosPerMinute != 0) {
    return MakeError(ErrorCode::kInvalidArgument, "1-minute bar time " + FormatIso8601(b.time) + " is not a whole minute");
  }
  if (pending->empty() || b.time > pending->back().time) {
    pending->push_back(b);
    return {};
  }
  if (b.time < pending->back().time) {
    return MakeError(ErrorCode::kInvalidArgument, "1-minute bar at " + FormatIso8601(b.time) + " is out of time order");
  }
  Bar& old = pending->back();
  WideDecimal volume;
  if (!WideDecimal::Add(old.volume, b.volume, &volume)) {
    return MakeError(ErrorCode::kOutOfRange, "1-minute volume sum overflows at " + FormatIso8601(b.time));
  }
  old = Bar{old.time, old.open, b.high > old.high ? b.high : old.high, b.low < old.low ? b.low : old.low, b.close,
            volume, old.trades + b.trades};
  return {};
}

}  // namespace tickflow::store::detail
