// Amount: exact fixed-point money and quantities for the backtester.
//
// A signed 128-bit count of 1e-18 units. Every Decimal (at most 15 digits after
// the point) converts exactly; a price times a quantity is exact whenever their
// digits after the point add up to at most 18 (Kraken: price digits <= 10, lot
// digits <= 8), and is otherwise rounded half-even at 1e-18, which Mul reports.
// The range is about +-1.7e20 units; every operation that can leave it is
// checked (Add, Sub, Mul return false), and the backtester turns that into an
// error for the run instead of a wrong number.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "tickflow/core/decimal.hpp"
#include "tickflow/core/result.hpp"
#include "tickflow/core/wide_decimal.hpp"

namespace tickflow::backtest {

enum class Rounding : std::uint8_t {
  kHalfEven,  // banker's rounding: ties to the even last digit
  kHalfUp,    // ties away from zero
  kFloor,     // toward minus infinity
  kCeiling,   // toward plus infinity
};

namespace detail {
struct Pow10Table {
  Int128 p[39];
  constexpr Pow10Table() : p{} {
    p[0] = 1;
    for (int i = 1; i < 39; ++i) p[i] = p[i - 1] * 10;
  }
};
inline constexpr Pow10Table kPow10;
}  // namespace detail

// 10^n for 0 <= n <= 38, from a table.
inline Int128 Pow10Wide(int n) { return detail::kPow10.p[n]; }

class Amount {
 public:
  static constexpr int kScale = 18;

  constexpr Amount() = default;
  static constexpr Amount FromUnits(Int128 units) { return Amount(units); }
  static Amount FromDecimal(Decimal d) {  // exact; inline: every trade converts a few
    return Amount(static_cast<Int128>(d.mantissa()) * Pow10Wide(kScale - d.scale()));
  }
  static Amount FromInt(std::int64_t whole);       // exact
  // Canonical decimal text ("100000", "-0.25"): up to 18 digits after the point.
  static Result<Amount> Parse(std::string_view text);

  constexpr Int128 units() const { return units_; }
  constexpr bool IsZero() const { return units_ == 0; }
  constexpr bool IsNegative() const { return units_ < 0; }
  constexpr Amount operator-() const { return Amount(-units_); }
  double ToDouble() const;
  // Exact text, no trailing zeros after the point: "100000", "0.404", "-3.5".
  std::string ToString() const;
  // Rounded (half-even) to `decimals` digits after the point, padded: "0.40".
  std::string ToFixed(int decimals) const;
  // The value as a Decimal rounded to `decimals` (0..15) digits; false if it does not fit.
  bool ToDecimal(int decimals, Rounding mode, Decimal* out) const;

  // Checked arithmetic: false (and *out untouched) when the result leaves the range.
  [[nodiscard]] static bool Add(Amount a, Amount b, Amount* out);
  [[nodiscard]] static bool Sub(Amount a, Amount b, Amount* out);
  // a * d rounded half-even at 1e-18; *inexact (optional) says whether it rounded.
  [[nodiscard]] static bool Mul(Amount a, Decimal d, Amount* out, bool* inexact = nullptr);
  // a * b (two Amounts), rounded half-even at 1e-18 (conversions through a path).
  [[nodiscard]] static bool Mul(Amount a, Amount b, Amount* out);
  // a / b rounded by `mode` to `decimals` digits after the point (0..18); false if b is 0.
  [[nodiscard]] static bool Div(Amount a, Amount b, int decimals, Rounding mode, Amount* out);
  // Rounded to `decimals` digits after the point (0..18).
  Amount Round(int decimals, Rounding mode) const;
  // Whether the value is a whole multiple of `step` (> 0).
  bool IsMultipleOf(Amount step) const { return step.units_ != 0 && units_ % step.units_ == 0; }

  friend constexpr std::strong_ordering operator<=>(Amount a, Amount b) { return a.units_ <=> b.units_; }
  friend constexpr bool operator==(Amount a, Amount b) { return a.units_ == b.units_; }

 private:
  constexpr explicit Amount(Int128 units) : units_(units) {}
  Int128 units_ = 0;
};

// q = n / d rounded by `mode` (d != 0).
Int128 DivRound(Int128 n, Int128 d, Rounding mode);

}  // namespace tickflow::backtest
