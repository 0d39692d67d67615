#include "tickflow/core/decimal.hpp"

#include <array>
#include <cstring>

#include "format_scaled.hpp"
#include "tickflow/core/check.hpp"

namespace tickflow {
namespace {

__extension__ typedef __int128 Int128;

constexpr std::array<double, 16> kPow10d = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                             1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

Int128 Scaled(Decimal d, int to_scale) {
  return static_cast<Int128>(d.mantissa()) * Decimal::kPow10Table[to_scale - d.scale()];
}

}  // namespace

std::int64_t Pow10(int n) {
  TICKFLOW_CHECK(n >= 0 && n <= 18, "Pow10 exponent out of range");
  return Decimal::kPow10Table[n];
}

std::string_view Describe(DecimalParseStatus status) {
  switch (status) {
    case DecimalParseStatus::kOk: return "ok";
    case DecimalParseStatus::kEmpty: return "empty value";
    case DecimalParseStatus::kInvalidCharacter: return "not a decimal number";
    case DecimalParseStatus::kNonCanonical:
      return "non-canonical decimal (write digits[.digits] without leading zeros or exponent)";
    case DecimalParseStatus::kTooManyDecimals: return "more than 15 digits after the decimal point";
    case DecimalParseStatus::kOutOfRange: return "too many significant digits (limit: 17, or 18 up to 576460752303423487)";
  }
  return "unknown";
}

bool Decimal::FromParts(std::int64_t mantissa, int scale, Decimal* out) {
  if (scale < 0 || scale > kMaxScale || mantissa > kMaxMantissa || mantissa < -kMaxMantissa) {
    return false;
  }
  // Shift the bit pattern, not the signed value, to keep the arithmetic defined.
  *out = Decimal(static_cast<std::int64_t>(static_cast<std::uint64_t>(mantissa) << kScaleBits) | scale);
  return true;
}

DecimalParseStatus Decimal::Parse(std::string_view text, Decimal* out) {
  if (text.empty()) return DecimalParseStatus::kEmpty;
  const char* p = text.data();
  const char* end = p + text.size();
  bool negative = false;
  if (*p == '-') {
    negative = true;
    ++p;
    if (p == end) return DecimalParseStatus::kInvalidCharacter;
  }
  const char* int_begin = p;
  std::uint64_t mantissa = 0;
  int digits = 0;
  while (p != end && static_cast<unsigned char>(*p - '0') < 10) {
    if (digits < 19) mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
    if (mantissa != 0 || digits > 0) ++digits;
    ++p;
  }
  const auto int_len = p - int_begin;
  int scale = 0;
  if (p != end) {
    if (*p != '.') {
      return (*p == 'e' || *p == 'E') && int_len > 0 ? DecimalParseStatus::kNonCanonical
                                                      : DecimalParseStatus::kInvalidCharacter;
    }
    ++p;
    const char* frac_begin = p;
    while (p != end && static_cast<unsigned char>(*p - '0') < 10) {
      if (digits < 19) mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
      if (mantissa != 0 || digits > 0) ++digits;
      ++p;
    }
    if (p != end) {
      return (*p == 'e' || *p == 'E') ? DecimalParseStatus::kNonCanonical
                                      : DecimalParseStatus::kInvalidCharacter;
    }
    if (p == frac_begin || int_len == 0) return DecimalParseStatus::kNonCanonical;
    if (p - frac_begin > kMaxScale) return DecimalParseStatus::kTooManyDecimals;
    scale = static_cast<int>(p - frac_begin);
  }
  if (int_len == 0) return DecimalParseStatus::kInvalidCharacter;
  if (int_len > 1 && *int_begin == '0') return DecimalParseStatus::kNonCanonical;
  if (digits > 18 || mantissa > static_cast<std::uint64_t>(kMaxMantissa)) {
    return DecimalParseStatus::kOutOfRange;
  }
  if (negative && mantissa == 0) return DecimalParseStatus::kNonCanonical;
  const auto m = static_cast<std::int64_t>(mantissa);
  FromParts(negative ? -m : m, scale, out);
  return DecimalParseStatus::kOk;
}

double Decimal::ToDouble() const {
  // One correctly rounded division (both operands exact for |mantissa| < 2^53): the double nearest to the
  // decimal, equal to strtod of its text. Multiplying by a rounded 10^-scale can be one ulp off.
  return static_cast<double>(mantissa()) / kPow10d[static_cast<std::size_t>(scale())];
}

char* Decimal::Format(char* out) const {
  const std::int64_t m = mantissa();  // |m| < 2^59: negating cannot overflow
  return detail::FormatScaled(m < 0, static_cast<std::uint64_t>(m < 0 ? -m : m), scale(), out);
}

std::string Decimal::ToString() const {
  char buf[kMaxTextLength];
  return std::string(buf, Format(buf));
}

bool Decimal::AddScaled(Decimal a, Decimal b, Decimal* out) {
  const int s = a.scale() > b.scale() ? a.scale() : b.scale();
  const Int128 sum = Scaled(a, s) + Scaled(b, s);
  if (sum > kMaxMantissa || sum < -kMaxMantissa) return false;
  return FromParts(static_cast<std::int64_t>(sum), s, out);
}

}  // namespace tickflow
