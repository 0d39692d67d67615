// Decimal: the exact price/volume representation, used unchanged in memory,
// in the store and on the wire.
//
// One int64 holds a decimal exactly as it was written: the low 4 bits are the
// scale (digits after the point, 0..15) and the high 60 bits a signed mantissa.
// value = mantissa * 10^-scale. Because the scale is kept per value, "0.0500"
// and "0.05" are different representations of the same value, and formatting a
// parsed Decimal reproduces its text byte for byte:
//   Decimal::Parse("10749.40")->ToString() == "10749.40".
// Accepted text is canonical decimal notation: an optional '-', an integer part
// without redundant leading zeros, then optionally '.' and 1..15 digits. The
// mantissa is limited to |m| < 2^59 (about 5.7e17, 17 significant digits).
// Comparison (<, ==) is by value across scales; SameRepresentation() compares bits.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace tickflow {

enum class DecimalParseStatus : std::uint8_t {
  kOk,
  kEmpty,
  kInvalidCharacter,   // anything but digits, one '.', a leading '-'
  kNonCanonical,       // leading zeros, "5.", ".5", "-0", exponent form
  kTooManyDecimals,    // more than 15 digits after the point
  kOutOfRange,         // mantissa does not fit in 60 bits
};

std::string_view Describe(DecimalParseStatus status);

class Decimal {
 public:
  static constexpr int kScaleBits = 4;
  static constexpr int kMaxScale = 15;
  static constexpr std::int64_t kMaxMantissa = (std::int64_t{1} << 59) - 1;
  static constexpr std::size_t kMaxTextLength = 40;
  // 10^n for n in [0, 18]: rescaling between scales (inline) and Pow10.
  // clang-format off
  static constexpr std::int64_t kPow10Table[19] = {
      1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000, 100000000000,
      1000000000000, 10000000000000, 100000000000000, 1000000000000000, 10000000000000000, 100000000000000000,
      1000000000000000000};
  // clang-format on

  constexpr Decimal() = default;

  // Bits as stored and sent on the wire.
  static constexpr Decimal FromRaw(std::int64_t raw) { return Decimal(raw); }
  // Requires |mantissa| <= kMaxMantissa and 0 <= scale <= kMaxScale; returns
  // false (leaving *out unchanged) otherwise.
  static bool FromParts(std::int64_t mantissa, int scale, Decimal* out);
  static DecimalParseStatus Parse(std::string_view text, Decimal* out);

  constexpr std::int64_t raw() const { return raw_; }
  constexpr std::int64_t mantissa() const { return raw_ >> kScaleBits; }
  constexpr int scale() const { return static_cast<int>(raw_ & ((1 << kScaleBits) - 1)); }
  constexpr bool SameRepresentation(Decimal other) const { return raw_ == other.raw_; }
  bool IsPositive() const { return mantissa() > 0; }

  double ToDouble() const;  // the nearest double (as strtod of the text, for |mantissa| < 2^53)
  // Writes the canonical text (at most kMaxTextLength chars); returns the end.
  char* Format(char* out) const;
  std::string ToString() const;

  // Exact sum; the result scale is the larger of the two. Returns false on
  // overflow of the 60-bit mantissa.
  static bool Add(Decimal a, Decimal b, Decimal* out) {
    if (a.scale() == b.scale()) {  // the common case: no rescaling
      const std::int64_t sum = a.mantissa() + b.mantissa();  // |each| < 2^59: cannot overflow int64
      if (sum > kMaxMantissa || sum < -kMaxMantissa) return false;
      *out = Decimal(static_cast<std::int64_t>(static_cast<std::uint64_t>(sum) << kScaleBits) | a.scale());
      return true;
    }
    return AddScaled(a, b, out);
  }

  // Always inline, different scales too (market data mixes them: "9557.4",
  // "9557.46"): GCC kept it out of line, a call per price comparison in the
  // resampler and the causal model's checks (perf). The smaller-scale side is
  // rescaled in 64 bits; if that overflows, its magnitude is at least 2^63,
  // beyond the other's (< 2^59), so its sign decides.
  [[gnu::always_inline]] friend std::strong_ordering operator<=>(Decimal a, Decimal b) {
    const int sa = a.scale(), sb = b.scale();
    const std::int64_t ma = a.mantissa(), mb = b.mantissa();
    if (sa == sb) return ma <=> mb;
    std::int64_t scaled;
    if (sa < sb) {
      if (__builtin_mul_overflow(ma, kPow10Table[sb - sa], &scaled)) {
        return ma < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
      }
      return scaled <=> mb;
    }
    if (__builtin_mul_overflow(mb, kPow10Table[sa - sb], &scaled)) {
      return mb < 0 ? std::strong_ordering::greater : std::strong_ordering::less;
    }
    return ma <=> scaled;
  }
  [[gnu::always_inline]] friend bool operator==(Decimal a, Decimal b) {
    return a.raw_ == b.raw_ || (a.scale() != b.scale() && (a <=> b) == std::strong_ordering::equal);
  }

 private:
  static bool AddScaled(Decimal a, Decimal b, Decimal* out);
  constexpr explicit Decimal(std::int64_t raw) : raw_(raw) {}
  std::int64_t raw_ = 0;
};

// 10^n for n in [0, 18].
std::int64_t Pow10(int n);

}  // namespace tickflow
