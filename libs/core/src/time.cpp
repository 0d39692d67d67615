#include "tickflow/core/time.hpp"

#include <charconv>
#include <limits>
#include <string>

namespace tickflow {
namespace {

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

char* Put2(char* out, int v) {
  *out++ = static_cast<char>('0' + v / 10);
  *out++ = static_cast<char>('0' + v % 10);
  return out;
}

// Parses exactly `n` digits at text[pos]; advances pos.
bool Digits(std::string_view text, std::size_t& pos, int n, int* value) {
  if (pos + static_cast<std::size_t>(n) > text.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = text[pos + static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(n);
  *value = v;
  return true;
}

// Parses '.' followed by 1..9 digits into nanoseconds, if present.
bool Fraction(std::string_view text, std::size_t& pos, std::int64_t* nanos) {
  *nanos = 0;
  if (pos >= text.size() || text[pos] != '.') return true;
  ++pos;
  int n = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (++n > 9) return false;
    *nanos = *nanos * 10 + (text[pos] - '0');
    ++pos;
  }
  if (n == 0) return false;
  for (int i = n; i < 9; ++i) *nanos *= 10;
  return true;
}

int DaysInMonth(std::int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

// Howard Hinnant's days_from_civil / civil_from_days.
std::int64_t DaysFromCivil(CivilDate date) {
  const std::int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  const std::int64_t era = FloorDiv(y, 400);
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = (date.month + 9) % 12;
  const std::int64_t doy = (153 * mp + 2) / 5 + date.day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(std::int64_t z) {
  z += 719468;
  const std::int64_t era = FloorDiv(z, 146097);
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return CivilDate{yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

std::int64_t DaysSinceEpoch(UnixNanos t) { return FloorDiv(t.ns, kNanosPerDay); }

char* FormatIso8601(UnixNanos t, char* out) {
  const std::int64_t days = DaysSinceEpoch(t);
  std::int64_t rem = t.ns - days * kNanosPerDay;  // [0, 1 day)
  const CivilDate c = CivilFromDays(days);
  out = std::to_chars(out, out + 12, c.year).ptr;
  *out++ = '-';
  out = Put2(out, c.month);
  *out++ = '-';
  out = Put2(out, c.day);
  *out++ = 'T';
  const auto secs = static_cast<int>(rem / kNanosPerSecond);
  auto frac = rem % kNanosPerSecond;
  out = Put2(out, secs / 3600);
  *out++ = ':';
  out = Put2(out, secs / 60 % 60);
  *out++ = ':';
  out = Put2(out, secs % 60);
  if (frac != 0) {
    int digits = 9;
    while (frac % 1000 == 0) {
      frac /= 1000;
      digits -= 3;
    }
    *out++ = '.';
    char buf[9];
    for (int i = digits - 1; i >= 0; --i) {
      buf[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    for (int i = 0; i < digits; ++i) *out++ = buf[i];
  }
  *out++ = 'Z';
  return out;
}

std::string FormatIso8601(UnixNanos t) {
  char buf[48];
  return std::string(buf, FormatIso8601(t, buf));
}

bool ParseUnixSeconds(std::string_view text, UnixNanos* out) {
  std::size_t pos = 0;
  std::int64_t secs = 0;
  int n = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (++n > 10) return false;  // 10 digits reach year 2286; checked below
    secs = secs * 10 + (text[pos] - '0');
    ++pos;
  }
  if (n == 0) return false;
  std::int64_t frac = 0;
  if (!Fraction(text, pos, &frac) || pos != text.size()) return false;
  constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / kNanosPerSecond - 1;
  if (secs > kMaxSeconds) return false;
  out->ns = secs * kNanosPerSecond + frac;
  return true;
}

Result<UnixNanos> ParseTime(std::string_view text) {
  const auto bad = [&] {
    return MakeError(ErrorCode::kInvalidArgument,
                     "bad time '" + std::string(text) +
                         "': expected ISO 8601 UTC such as 2019-07-01, 2019-07-01T00:30:00Z, "
                         "2019-07-01T00:30:00.250Z, or unix seconds such as 1561939203.172");
  };
  UnixNanos t;
  if (ParseUnixSeconds(text, &t)) return t;
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0;
  if (!Digits(text, pos, 4, &year) || pos >= text.size() || text[pos++] != '-' ||
      !Digits(text, pos, 2, &month) || pos >= text.size() || text[pos++] != '-' ||
      !Digits(text, pos, 2, &day)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return bad();
  int hour = 0, minute = 0, second = 0;
  std::int64_t frac = 0;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ')) {
    ++pos;
    if (!Digits(text, pos, 2, &hour) || pos >= text.size() || text[pos++] != ':' ||
        !Digits(text, pos, 2, &minute)) {
      return bad();
    }
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!Digits(text, pos, 2, &second) || !Fraction(text, pos, &frac)) return bad();
    }
    if (hour > 23 || minute > 59 || second > 59) return bad();
  }
  const std::string_view zone = text.substr(pos);
  if (!(zone.empty() || zone == "Z" || zone == "+00:00" || zone == "+0000")) return bad();
  const std::int64_t days = DaysFromCivil({year, month, day});
  // Checked: int64 nanoseconds reach only 1677-09-21 .. 2262-04-11.
  std::int64_t ns = 0;
  const std::int64_t in_day = hour * kNanosPerHour + minute * kNanosPerMinute + second * kNanosPerSecond + frac;
  if (__builtin_mul_overflow(days, kNanosPerDay, &ns) || __builtin_add_overflow(ns, in_day, &ns) ||
      ns == std::numeric_limits<std::int64_t>::min() || ns == std::numeric_limits<std::int64_t>::max()) {
    return MakeError(ErrorCode::kOutOfRange, "time '" + std::string(text) +
                                                 "' is outside what tickflow represents: 1677-09-21T00:12:43Z to "
                                                 "2262-04-11T23:47:16Z (nanoseconds since 1970 in 64 bits)");
  }
  t.ns = ns;
  return t;
}

}  // namespace tickflow
