#include "tickflow/core/wide_decimal.hpp"

#include "format_scaled.hpp"

namespace tickflow {
namespace {

// m * 10^n (n in 0..15), or false when it leaves the mantissa range.
bool ScaleUp(Int128 m, int n, Int128* out) {
  Int128 r;
  if (__builtin_mul_overflow(m, static_cast<Int128>(Pow10(n)), &r)) return false;
  if (r > WideDecimal::kMaxMantissa || r < -WideDecimal::kMaxMantissa) return false;
  *out = r;
  return true;
}

}  // namespace

bool WideDecimal::FromParts(Int128 mantissa, int scale, WideDecimal* out) {
  if (scale < 0 || scale > Decimal::kMaxScale || mantissa > kMaxMantissa || mantissa < -kMaxMantissa) return false;
  *out = WideDecimal(static_cast<Int128>(static_cast<UInt128>(mantissa) << kScaleBits) | scale);
  return true;
}

bool WideDecimal::ToDecimal(Decimal* out) const {
  const Int128 m = mantissa();
  if (m > Decimal::kMaxMantissa || m < -Decimal::kMaxMantissa) return false;
  return Decimal::FromParts(static_cast<std::int64_t>(m), scale(), out);
}

double WideDecimal::ToDouble() const {
  return static_cast<double>(mantissa()) / static_cast<double>(Pow10(scale()));
}

char* WideDecimal::Format(char* out) const {
  const Int128 m = mantissa();  // |m| < 2^123: negating cannot overflow
  return detail::FormatScaled(m < 0, static_cast<UInt128>(m < 0 ? -m : m), scale(), out);
}

std::string WideDecimal::ToString() const {
  char buf[kMaxTextLength];
  return std::string(buf, Format(buf));
}

bool WideDecimal::AddScaled(WideDecimal a, WideDecimal b, WideDecimal* out) {
  const int s = a.scale() > b.scale() ? a.scale() : b.scale();
  Int128 ma, mb;
  if (!ScaleUp(a.mantissa(), s - a.scale(), &ma) || !ScaleUp(b.mantissa(), s - b.scale(), &mb)) return false;
  return FromParts(ma + mb, s, out);  // |ma|, |mb| < 2^123: the sum cannot overflow int128
}

std::strong_ordering operator<=>(WideDecimal a, WideDecimal b) {
  if (a.scale() == b.scale()) return a.mantissa() <=> b.mantissa();
  const int s = a.scale() > b.scale() ? a.scale() : b.scale();
  Int128 ma, mb;
  const bool a_fits = ScaleUp(a.mantissa(), s - a.scale(), &ma);
  const bool b_fits = ScaleUp(b.mantissa(), s - b.scale(), &mb);
  if (a_fits && b_fits) return ma <=> mb;
  // One of them is beyond any value at scale s: its sign decides.
  if (!a_fits) return a.mantissa() > 0 ? std::strong_ordering::greater : std::strong_ordering::less;
  return b.mantissa() > 0 ? std::strong_ordering::less : std::strong_ordering::greater;
}

}  // namespace tickflow
