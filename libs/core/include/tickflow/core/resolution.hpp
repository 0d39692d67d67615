// TimeResolution (wire values of the reference system, DESIGN §4) and UTC
// calendar bucketing: minutes and hours by integer division, days at 00:00,
// weeks starting Monday 00:00, months and years by the Gregorian calendar.
// A bucket is [BucketStart(t), NextBucketStart(t)); its start is the bar time.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "tickflow/core/result.hpp"
#include "tickflow/core/time.hpp"

namespace tickflow {

enum class TimeResolution : std::uint8_t {
  kNone = 0,
  kOneMinute = 1,
  kFiveMinutes = 2,
  kFifteenMinutes = 3,
  kThirtyMinutes = 4,
  kOneHour = 5,
  kOneDay = 6,
  kOneWeek = 7,
  kOneMonth = 8,
  kOneYear = 9,
};

// All valid resolutions, finest first.
std::span<const TimeResolution> AllResolutions();

// "1m", "5m", "15m", "30m", "1h", "1d", "1w", "1M", "1y".
std::string_view ToString(TimeResolution res);
Result<TimeResolution> ParseResolution(std::string_view text);
bool IsValid(TimeResolution res);

// Start of the bucket containing t. `res` must be valid.
UnixNanos BucketStart(UnixNanos t, TimeResolution res);
// Start of the bucket after the one containing t.
UnixNanos NextBucketStart(UnixNanos t, TimeResolution res);

}  // namespace tickflow
