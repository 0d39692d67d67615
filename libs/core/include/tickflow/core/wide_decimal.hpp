// WideDecimal: an exact decimal for sums of Decimals, such as bar volumes,
// that outgrow Decimal's 60 bits: 99999999 + 0.000000000000001 needs 23
// digits, a SHIB-like market's yearly volume 20.
//
// The same layout as Decimal, twice as wide: the low 4 bits of a 128-bit raw
// value are the scale (0..15), the high 124 bits a signed mantissa, limited to
// |m| < 2^123 (about 1.06e37: 37 significant digits). Every Decimal converts
// exactly (same bits, sign-extended), so a WideDecimal that fits a Decimal has
// that Decimal's bits as its low 64 bits and 0 (or -1) as its high 64 bits,
// which is how it travels on the wire (DataBar volume + volumeHigh) and in the
// ClickHouse store (volume + volume_high). The sum keeps the larger scale, so
// "1.50" + "2" formats as "3.50", as Decimal does.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "tickflow/core/decimal.hpp"

namespace tickflow {

__extension__ using Int128 = __int128;  // GCC/Clang; __extension__ tells -Wpedantic it is meant
__extension__ using UInt128 = unsigned __int128;

class WideDecimal {
 public:
  static constexpr int kScaleBits = 4;
  static constexpr Int128 kMaxMantissa = (Int128{1} << 123) - 1;
  static constexpr std::size_t kMaxTextLength = 48;

  constexpr WideDecimal() = default;
  constexpr WideDecimal(Decimal d) : raw_(d.raw()) {}  // NOLINT: implicit, every Decimal is one

  static constexpr WideDecimal FromRaw(Int128 raw) { return WideDecimal(raw); }
  // From the two 64-bit halves of the raw value (wire and ClickHouse layout).
  static constexpr WideDecimal FromHalves(std::uint64_t low, std::int64_t high) {
    return WideDecimal(static_cast<Int128>((static_cast<UInt128>(static_cast<std::uint64_t>(high)) << 64) | low));
  }
  // Requires |mantissa| <= kMaxMantissa and 0 <= scale <= 15; false otherwise.
  static bool FromParts(Int128 mantissa, int scale, WideDecimal* out);

  constexpr Int128 raw() const { return raw_; }
  constexpr std::uint64_t low() const { return static_cast<std::uint64_t>(raw_); }
  constexpr std::int64_t high() const { return static_cast<std::int64_t>(raw_ >> 64); }
  constexpr Int128 mantissa() const { return raw_ >> kScaleBits; }
  constexpr int scale() const { return static_cast<int>(raw_ & ((1 << kScaleBits) - 1)); }
  constexpr bool SameRepresentation(WideDecimal o) const { return raw_ == o.raw_; }
  bool IsPositive() const { return mantissa() > 0; }
  // The Decimal with the same value and representation, when it fits.
  bool ToDecimal(Decimal* out) const;

  double ToDouble() const;
  char* Format(char* out) const;  // at most kMaxTextLength chars; returns the end
  std::string ToString() const;

  // Exact sum, at the larger scale; false on overflow of the 124-bit mantissa.
  // Inline for the common case (equal scales): the resampler adds every trade.
  static bool Add(WideDecimal a, WideDecimal b, WideDecimal* out) {
    if (a.scale() == b.scale()) {
      const Int128 sum = a.mantissa() + b.mantissa();  // |each| < 2^123: cannot overflow
      if (sum > kMaxMantissa || sum < -kMaxMantissa) return false;
      *out = WideDecimal(static_cast<Int128>(static_cast<UInt128>(sum) << kScaleBits) | a.scale());
      return true;
    }
    return AddScaled(a, b, out);
  }

  // a + b for a Decimal b, inline also when b has the smaller scale (a bar's
  // volume sum keeps the largest scale seen; market data mixes "0.5" and
  // "0.04053730"): |b's mantissa| < 2^59 times 10^15 < 2^109 cannot overflow.
  static bool Add(WideDecimal a, Decimal b, WideDecimal* out) {
    if (b.scale() < a.scale()) {
      const Int128 sum = a.mantissa() + static_cast<Int128>(b.mantissa()) * Decimal::kPow10Table[a.scale() - b.scale()];
      if (sum > kMaxMantissa || sum < -kMaxMantissa) return false;
      *out = WideDecimal(static_cast<Int128>(static_cast<UInt128>(sum) << kScaleBits) | a.scale());
      return true;
    }
    return Add(a, WideDecimal(b), out);
  }

  friend std::strong_ordering operator<=>(WideDecimal a, WideDecimal b);
  friend bool operator==(WideDecimal a, WideDecimal b) { return (a <=> b) == std::strong_ordering::equal; }

 private:
  static bool AddScaled(WideDecimal a, WideDecimal b, WideDecimal* out);
  constexpr explicit WideDecimal(Int128 raw) : raw_(raw) {}
  Int128 raw_ = 0;
};

}  // namespace tickflow
