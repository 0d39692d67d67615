// Canonical decimal text of a magnitude with `scale` digits after the point,
// shared by Decimal (64-bit) and WideDecimal (128-bit) so both print alike.
#pragma once

namespace tickflow::detail {

template <class Unsigned>
char* FormatScaled(bool negative, Unsigned magnitude, int scale, char* out) {
  if (negative) *out++ = '-';
  char digits[48];  // 39 digits of a 128-bit value, padded to scale + 1
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  } while (magnitude != 0);
  while (n <= scale) digits[n++] = '0';  // at least one digit before the point
  for (int i = n - 1; i >= 0; --i) {
    *out++ = digits[i];
    if (i == scale && scale != 0) *out++ = '.';
  }
  return out;
}

}  // namespace tickflow::detail
