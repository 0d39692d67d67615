#include "tickflow/core/resolution.hpp"

#include <array>
#include <string>

#include "tickflow/core/check.hpp"

namespace tickflow {
namespace {

constexpr std::array<TimeResolution, 9> kAll = {
    TimeResolution::kOneMinute, TimeResolution::kFiveMinutes, TimeResolution::kFifteenMinutes,
    TimeResolution::kThirtyMinutes, TimeResolution::kOneHour, TimeResolution::kOneDay,
    TimeResolution::kOneWeek, TimeResolution::kOneMonth, TimeResolution::kOneYear};

std::int64_t FloorTo(std::int64_t v, std::int64_t unit, std::int64_t offset = 0) {
  std::int64_t x = v - offset;
  std::int64_t q = x / unit;
  if (x % unit != 0 && x < 0) --q;
  return q * unit + offset;
}

// 1970-01-01 was a Thursday; Monday 1969-12-29 is 3 days earlier.
constexpr std::int64_t kMondayOffset = -3 * kNanosPerDay;

std::int64_t FixedWidth(TimeResolution res) {
  switch (res) {
    case TimeResolution::kOneMinute: return kNanosPerMinute;
    case TimeResolution::kFiveMinutes: return 5 * kNanosPerMinute;
    case TimeResolution::kFifteenMinutes: return 15 * kNanosPerMinute;
    case TimeResolution::kThirtyMinutes: return 30 * kNanosPerMinute;
    case TimeResolution::kOneHour: return kNanosPerHour;
    case TimeResolution::kOneDay: return kNanosPerDay;
    case TimeResolution::kOneWeek: return 7 * kNanosPerDay;
    default: return 0;
  }
}

}  // namespace

std::span<const TimeResolution> AllResolutions() { return kAll; }

bool IsValid(TimeResolution res) {
  return static_cast<std::uint8_t>(res) >= 1 && static_cast<std::uint8_t>(res) <= 9;
}

std::string_view ToString(TimeResolution res) {
  switch (res) {
    case TimeResolution::kOneMinute: return "1m";
    case TimeResolution::kFiveMinutes: return "5m";
    case TimeResolution::kFifteenMinutes: return "15m";
    case TimeResolution::kThirtyMinutes: return "30m";
    case TimeResolution::kOneHour: return "1h";
    case TimeResolution::kOneDay: return "1d";
    case TimeResolution::kOneWeek: return "1w";
    case TimeResolution::kOneMonth: return "1M";
    case TimeResolution::kOneYear: return "1y";
    case TimeResolution::kNone: break;
  }
  return "none";
}

Result<TimeResolution> ParseResolution(std::string_view text) {
  for (TimeResolution r : kAll) {
    if (ToString(r) == text) return r;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown resolution '" + std::string(text) +
                       "': use one of 1m, 5m, 15m, 30m, 1h, 1d, 1w, 1M (month), 1y");
}

UnixNanos BucketStart(UnixNanos t, TimeResolution res) {
  TICKFLOW_CHECK(IsValid(res), "BucketStart with an invalid resolution");
  if (res == TimeResolution::kOneWeek) return {FloorTo(t.ns, 7 * kNanosPerDay, kMondayOffset)};
  if (const std::int64_t w = FixedWidth(res); w != 0) return {FloorTo(t.ns, w)};
  CivilDate c = CivilFromDays(DaysSinceEpoch(t));
  c.day = 1;
  if (res == TimeResolution::kOneYear) c.month = 1;
  return {DaysFromCivil(c) * kNanosPerDay};
}

UnixNanos NextBucketStart(UnixNanos t, TimeResolution res) {
  const UnixNanos start = BucketStart(t, res);
  if (const std::int64_t w = FixedWidth(res); w != 0) return {start.ns + w};
  CivilDate c = CivilFromDays(DaysSinceEpoch(start));
  if (res == TimeResolution::kOneYear) {
    ++c.year;
  } else if (++c.month == 13) {
    c.month = 1;
    ++c.year;
  }
  return {DaysFromCivil(c) * kNanosPerDay};
}

}  // namespace tickflow
