// UnixNanos: nanoseconds since 1970-01-01T00:00:00Z (UTC, no leap seconds),
// the one timestamp type of tickflow. Text forms:
//  - ISO 8601 UTC, exact: "2019-07-01T00:00:03.172Z" (the fraction is printed in
//    groups of 3 digits, as many as needed to be exact, none for whole seconds);
//  - unix seconds with up to 9 fractional digits: "1561939203.172".
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "tickflow/core/result.hpp"

namespace tickflow {

struct UnixNanos {
  std::int64_t ns = 0;

  static constexpr UnixNanos Min() { return {std::numeric_limits<std::int64_t>::min()}; }
  static constexpr UnixNanos Max() { return {std::numeric_limits<std::int64_t>::max()}; }
  friend constexpr auto operator<=>(UnixNanos, UnixNanos) = default;

  // A time point moved by a duration (t + 90 * 24h, t - 1ns), and the
  // duration between two (no overflow check: Min and Max are sentinels, not
  // times to compute with).
  template <class Rep, class Period>
  friend constexpr UnixNanos operator+(UnixNanos t, std::chrono::duration<Rep, Period> d) {
    return {t.ns + std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()};
  }
  template <class Rep, class Period>
  friend constexpr UnixNanos operator-(UnixNanos t, std::chrono::duration<Rep, Period> d) {
    return {t.ns - std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()};
  }
  template <class Rep, class Period>
  constexpr UnixNanos& operator+=(std::chrono::duration<Rep, Period> d) {
    return *this = *this + d;
  }
  template <class Rep, class Period>
  constexpr UnixNanos& operator-=(std::chrono::duration<Rep, Period> d) {
    return *this = *this - d;
  }
  friend constexpr std::chrono::nanoseconds operator-(UnixNanos a, UnixNanos b) {
    return std::chrono::nanoseconds(a.ns - b.ns);
  }
};

inline constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr std::int64_t kNanosPerMinute = 60 * kNanosPerSecond;
inline constexpr std::int64_t kNanosPerHour = 60 * kNanosPerMinute;
inline constexpr std::int64_t kNanosPerDay = 24 * kNanosPerHour;

// A proleptic Gregorian date.
struct CivilDate {
  std::int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

std::int64_t DaysFromCivil(CivilDate date);
CivilDate CivilFromDays(std::int64_t days);
// Floor division of a timestamp into whole days since the epoch.
std::int64_t DaysSinceEpoch(UnixNanos t);

// Writes ISO 8601 UTC (at most 40 chars); returns the end.
char* FormatIso8601(UnixNanos t, char* out);
std::string FormatIso8601(UnixNanos t);

// "1561939203", "1561939203.172" (up to 9 fractional digits, no sign). Returns
// false if the text is not of that form or is beyond year 2262.
bool ParseUnixSeconds(std::string_view text, UnixNanos* out);

// A user-supplied time: ISO 8601 UTC ("2019-07-01", "2019-07-01T00:30",
// "2019-07-01T00:30:00Z", "2019-07-01 00:30:00.5", "...+00:00") or unix seconds.
Result<UnixNanos> ParseTime(std::string_view text);

}  // namespace tickflow
