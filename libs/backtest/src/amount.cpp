#include "tickflow/backtest/amount.hpp"

#include <cmath>

namespace tickflow::backtest {
namespace {

constexpr Int128 kOne = 1'000'000'000'000'000'000;  // 1e18 units

// |v| as unsigned (well defined for the minimum too).
UInt128 Abs(Int128 v) { return v < 0 ? UInt128(0) - static_cast<UInt128>(v) : static_cast<UInt128>(v); }

// Rounds the quotient q (of |n| / |d|, remainder r) of a result with sign `negative`.
UInt128 RoundQuotient(UInt128 q, UInt128 r, UInt128 d, bool negative, Rounding mode) {
  if (r == 0) return q;
  switch (mode) {
    case Rounding::kFloor: return negative ? q + 1 : q;
    case Rounding::kCeiling: return negative ? q : q + 1;
    case Rounding::kHalfUp: return r >= d - r ? q + 1 : q;
    case Rounding::kHalfEven: {
      const UInt128 rest = d - r;
      if (r > rest) return q + 1;
      if (r < rest) return q;
      return (q & 1) ? q + 1 : q;
    }
  }
  return q;
}

bool FromMagnitude(UInt128 m, bool negative, Int128* out) {
  constexpr UInt128 kMax = static_cast<UInt128>(~UInt128(0) >> 1);
  if (m > kMax) return false;
  *out = negative ? -static_cast<Int128>(m) : static_cast<Int128>(m);
  return true;
}

}  // namespace



Int128 DivRound(Int128 n, Int128 d, Rounding mode) {
  const bool negative = (n < 0) != (d < 0);
  const UInt128 an = Abs(n), ad = Abs(d);
  const UInt128 q = RoundQuotient(an / ad, an % ad, ad, negative, mode);
  return negative ? -static_cast<Int128>(q) : static_cast<Int128>(q);
}

Amount Amount::FromInt(std::int64_t whole) { return Amount(static_cast<Int128>(whole) * kOne); }

Result<Amount> Amount::Parse(std::string_view text) {
  std::string_view s = text;
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  const std::size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  const auto digits = [](std::string_view v) {
    for (char c : v) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  if (whole.empty() || !digits(whole) || !digits(frac) || (dot != std::string_view::npos && frac.empty()) ||
      frac.size() > kScale || whole.size() > 20 || (whole.size() > 1 && whole[0] == '0')) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "'" + std::string(text) + "' is not a decimal number (like 100000 or 2500.50, at most 18 digits after the point)");
  }
  UInt128 m = 0;
  for (char c : whole) m = m * 10 + static_cast<unsigned>(c - '0');
  for (char c : frac) m = m * 10 + static_cast<unsigned>(c - '0');
  for (std::size_t i = frac.size(); i < kScale; ++i) m *= 10;
  Int128 units = 0;
  if (!FromMagnitude(m, negative, &units) || Abs(units) > Abs(Pow10Wide(20)) * static_cast<UInt128>(kOne)) {
    return MakeError(ErrorCode::kOutOfRange, "'" + std::string(text) + "' is too large (at most 1e20)");
  }
  return Amount(units);
}

double Amount::ToDouble() const {
  const Int128 whole = units_ / kOne, frac = units_ % kOne;
  return static_cast<double>(whole) + static_cast<double>(frac) / 1e18;
}

std::string Amount::ToString() const {
  std::string s = ToFixed(kScale);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string Amount::ToFixed(int decimals) const {
  const Amount r = Round(decimals, Rounding::kHalfEven);
  UInt128 m = Abs(r.units_) / static_cast<UInt128>(Pow10Wide(kScale - decimals));
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  } while (m != 0);
  if (static_cast<int>(digits.size()) <= decimals) digits.insert(0, static_cast<std::size_t>(decimals) + 1 - digits.size(), '0');
  if (decimals > 0) digits.insert(digits.size() - static_cast<std::size_t>(decimals), ".");
  return (r.units_ < 0 ? "-" : "") + digits;
}

bool Amount::ToDecimal(int decimals, Rounding mode, Decimal* out) const {
  if (decimals < 0 || decimals > Decimal::kMaxScale) return false;
  const Int128 m = DivRound(units_, Pow10Wide(kScale - decimals), mode);
  if (m > Decimal::kMaxMantissa || m < -Decimal::kMaxMantissa) return false;
  return Decimal::FromParts(static_cast<std::int64_t>(m), decimals, out);
}

bool Amount::Add(Amount a, Amount b, Amount* out) {
  Int128 r;
  if (__builtin_add_overflow(a.units_, b.units_, &r)) return false;
  *out = Amount(r);
  return true;
}

bool Amount::Sub(Amount a, Amount b, Amount* out) {
  Int128 r;
  if (__builtin_sub_overflow(a.units_, b.units_, &r)) return false;
  *out = Amount(r);
  return true;
}

// a*b/1e18 without a 256-bit product: with a = ah*1e18 + al and b = bh*1e18 + bl,
// a*b/1e18 = ah*bh*1e18 + ah*bl + al*bh + al*bl/1e18, each term checked.
bool Amount::Mul(Amount a, Amount b, Amount* out) {
  const bool negative = (a.units_ < 0) != (b.units_ < 0);
  const UInt128 ua = Abs(a.units_), ub = Abs(b.units_), one = static_cast<UInt128>(kOne);
  const UInt128 ah = ua / one, al = ua % one, bh = ub / one, bl = ub % one;
  UInt128 t1, t2, t3, sum;
  if (__builtin_mul_overflow(ah, bh, &t1) || __builtin_mul_overflow(t1, one, &t1)) return false;
  if (__builtin_mul_overflow(ah, bl, &t2) || __builtin_mul_overflow(al, bh, &t3)) return false;
  const UInt128 low = al * bl;  // < 1e36
  const UInt128 t4 = RoundQuotient(low / one, low % one, one, false, Rounding::kHalfEven);
  if (__builtin_add_overflow(t1, t2, &sum) || __builtin_add_overflow(sum, t3, &sum) ||
      __builtin_add_overflow(sum, t4, &sum)) {
    return false;
  }
  Int128 units;
  if (!FromMagnitude(sum, negative, &units)) return false;
  // Half-even on the magnitude is half-even on the value: the rounding is symmetric.
  *out = Amount(units);
  return true;
}

bool Amount::Mul(Amount a, Decimal d, Amount* out, bool* inexact) {
  const Amount b = FromDecimal(d);
  if (inexact != nullptr) {
    const UInt128 one = static_cast<UInt128>(kOne);
    *inexact = ((Abs(a.units_) % one) * (Abs(b.units_) % one)) % one != 0;
  }
  return Mul(a, b, out);
}

bool Amount::Div(Amount a, Amount b, int decimals, Rounding mode, Amount* out) {
  if (b.units_ == 0 || decimals < 0 || decimals > kScale) return false;
  const bool negative = (a.units_ < 0) != (b.units_ < 0);
  const UInt128 ua = Abs(a.units_), ub = Abs(b.units_);
  // Long division, one decimal digit at a time: no product wider than 128 bits.
  UInt128 q = ua / ub, r = ua % ub;
  for (int i = 0; i < decimals; ++i) {
    UInt128 r10;
    if (__builtin_mul_overflow(q, UInt128(10), &q) || __builtin_mul_overflow(r, UInt128(10), &r10)) return false;
    q += r10 / ub;
    r = r10 % ub;
  }
  q = RoundQuotient(q, r, ub, negative, mode);
  UInt128 scaled;
  if (__builtin_mul_overflow(q, static_cast<UInt128>(Pow10Wide(kScale - decimals)), &scaled)) return false;
  Int128 units;
  if (!FromMagnitude(scaled, negative, &units)) return false;
  *out = Amount(units);
  return true;
}

Amount Amount::Round(int decimals, Rounding mode) const {
  if (decimals >= kScale) return *this;
  const Int128 step = Pow10Wide(kScale - decimals);
  return Amount(DivRound(units_, step, mode) * step);
}

}  // namespace tickflow::backtest
