#include "validate.hpp"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include <array>

#include "tickflow/core/time.hpp"

namespace tickflow::store::detail {
namespace {

// mantissa > 0 and scale <= max_scale, on the raw bits (mantissa << 4 | scale).
// Decimal or WideDecimal: the same layout.
template <class D>
bool Valid(D d, int max_scale) {
  return d.raw() >= 16 && (d.raw() & 15) <= max_scale;
}

template <class D>
std::string Describe(D d, int max_scale, const char* what) {
  if (d.raw() < 16) return std::string(what) + " " + d.ToString() + " is not positive";
  return std::string(what) + " " + d.ToString() + " has " + std::to_string(d.scale()) + " digits after the point (the market's most is " +
         std::to_string(max_scale) + ")";
}

}  // namespace

std::string CheckTrades(std::span<const Trade> trades, ValueLimits limits) {
  // One branch-free pass (the common case: all valid), then a search for the message.
  // On the raw bits, without short-circuits: mantissa > 0 is raw >= 16.
  bool bad = false;
  std::int64_t previous = trades.empty() ? 0 : trades.front().time.ns;
  const std::int64_t ps = limits.price_scale, vs = limits.volume_scale;
  for (const Trade& t : trades) {
    const std::int64_t p = t.price.raw(), v = t.volume.raw();
    bad |= (p < 16) | ((p & 15) > ps) | (v < 16) | ((v & 15) > vs) | (t.time.ns < previous);
    previous = t.time.ns;
  }
  if (!bad) return {};
  for (std::size_t i = 0; i < trades.size(); ++i) {
    const Trade& t = trades[i];
    const std::string at = "trade at " + FormatIso8601(t.time) + ": ";
    if (!Valid(t.price, limits.price_scale)) return at + Describe(t.price, limits.price_scale, "price");
    if (!Valid(t.volume, limits.volume_scale)) return at + Describe(t.volume, limits.volume_scale, "volume");
    if (i > 0 && t.time < trades[i - 1].time) return at + "before the previous trade's " + FormatIso8601(trades[i - 1].time);
  }
  return {};
}

std::string CheckBars(std::span<const Bar> bars, ValueLimits limits) {
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const std::string at = "bar at " + FormatIso8601(b.time) + ": ";
    if (b.time.ns % kNanosPerMinute != 0) return at + "not on a whole minute";
    if (i > 0 && b.time <= bars[i - 1].time) return at + "not after the previous bar's " + FormatIso8601(bars[i - 1].time);
    for (const auto& [d, what] : {std::pair{b.open, "open"}, std::pair{b.high, "high"}, std::pair{b.low, "low"},
                                  std::pair{b.close, "close"}}) {
      if (!Valid(d, limits.price_scale)) return at + Describe(d, limits.price_scale, what);
    }
    if (b.low > b.open || b.low > b.close || b.high < b.open || b.high < b.close) {
      return at + "open " + b.open.ToString() + " and close " + b.close.ToString() + " are not within low " +
             b.low.ToString() + " and high " + b.high.ToString();
    }
    if (!Valid(b.volume, limits.volume_scale)) return at + Describe(b.volume, limits.volume_scale, "volume");
    if (b.trades == 0) return at + "no trades";
  }
  return {};
}

std::uint64_t BlockChecksum(std::int64_t key, std::int64_t first_ts, std::int64_t last_ts, std::int64_t count,
                            std::span<const std::string_view> blobs) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  const std::array<std::int64_t, 4> head = {key, first_ts, last_ts, count};
  XXH3_64bits_update(&state, head.data(), sizeof head);
  for (std::string_view b : blobs) {
    const auto size = static_cast<std::uint64_t>(b.size());  // so bytes cannot move between blobs unnoticed
    XXH3_64bits_update(&state, &size, sizeof size);
    XXH3_64bits_update(&state, b.data(), b.size());
  }
  return XXH3_64bits_digest(&state);
}

}  // namespace tickflow::store::detail
