#include "../src/block_codec.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <vector>

namespace tickflow::store::detail {
namespace {

void RoundTrip(const std::vector<UnixNanos>& t, const std::vector<Decimal>& p, const std::vector<Decimal>& v) {
  EncodedBlock b;
  EncodeBlock(t, p, v, &b);
  std::vector<Trade> out(t.size());
  ASSERT_TRUE(DecodeBlock(b.first_time, b.count, b.time, b.price, b.volume, 9, out.data()).ok());
  for (std::size_t i = 0; i < t.size(); ++i) {
    ASSERT_EQ(out[i].time, t[i]) << i;
    ASSERT_TRUE(out[i].price.SameRepresentation(p[i])) << i;
    ASSERT_TRUE(out[i].volume.SameRepresentation(v[i])) << i;
    ASSERT_EQ(out[i].symbol, 9);
  }
  // Any truncation or extension of a column is detected, never read past.
  for (std::string* col : {&b.time, &b.price, &b.volume}) {
    const std::string saved = *col;
    for (std::size_t cut : {std::size_t{0}, std::size_t{1}, saved.size() - 1}) {
      *col = saved.substr(0, cut);
      EXPECT_FALSE(DecodeBlock(b.first_time, b.count, b.time, b.price, b.volume, 9, out.data()).ok());
    }
    *col = saved + "x";
    EXPECT_FALSE(DecodeBlock(b.first_time, b.count, b.time, b.price, b.volume, 9, out.data()).ok());
    *col = saved;
  }
}

Decimal Raw(std::int64_t raw) { return Decimal::FromRaw(raw); }

TEST(BlockCodecTest, RoundTripsEveryTimeUnitAndWidth) {
  const std::int64_t base = 1561939200LL * kNanosPerSecond;
  for (std::int64_t step : {std::int64_t{1}, std::int64_t{7}, std::int64_t{1000}, std::int64_t{3000000},
                            kNanosPerSecond, 86400 * kNanosPerSecond}) {
    std::vector<UnixNanos> t;
    std::vector<Decimal> p, v;
    for (int i = 0; i < 1000; ++i) {
      t.push_back(UnixNanos{base + (i / 3) * step});
      p.push_back(Raw((1000 + i % 17) << 4 | 1));
      v.push_back(Raw((i + 1) << 4 | 8));
    }
    RoundTrip(t, p, v);
  }
}

TEST(BlockCodecTest, RoundTripsExtremes) {
  const std::int64_t kMax = Decimal::kMaxMantissa;
  Decimal big, small;
  ASSERT_TRUE(Decimal::FromParts(kMax, 15, &big));
  ASSERT_TRUE(Decimal::FromParts(1, 0, &small));
  // Deltas that need all 64 zigzag bits, a one-trade block, and constant columns.
  RoundTrip({UnixNanos{0}, UnixNanos{std::numeric_limits<std::int64_t>::max() / 2}},
            {small, big}, {big, small});
  RoundTrip({UnixNanos{5}}, {small}, {small});
  RoundTrip({UnixNanos{5}, UnixNanos{5}, UnixNanos{5}}, {small, small, small}, {small, small, small});
  std::mt19937_64 rng(3);
  std::vector<UnixNanos> t;
  std::vector<Decimal> p, v;
  std::int64_t now = 0;
  for (int i = 0; i < 32768; ++i) {
    now += static_cast<std::int64_t>(rng() % 1000000000000ULL);
    t.push_back(UnixNanos{now});
    Decimal a, b;
    ASSERT_TRUE(Decimal::FromParts(static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(kMax)), static_cast<int>(rng() % 16), &a));
    ASSERT_TRUE(Decimal::FromParts(static_cast<std::int64_t>(rng() % 100000), static_cast<int>(rng() % 16), &b));
    p.push_back(a);
    v.push_back(b);
  }
  RoundTrip(t, p, v);
}

TEST(BlockCodecTest, BarBlocksRoundTripAndRejectDamage) {
  std::vector<Bar> bars;
  for (int i = 0; i < 500; ++i) {
    bars.push_back(Bar{UnixNanos{(1000 + i * (i % 7 + 1)) * kNanosPerMinute}, Raw(100 << 4), Raw(120 << 4 | 1),
                       Raw(90 << 4), Raw((100 + i) << 4 | 2), Raw(i << 4 | 8), static_cast<std::uint64_t>(i + 1)});
  }
  std::string blob;
  EncodeBarBlock(bars, &blob);
  std::vector<Bar> out(bars.size());
  ASSERT_TRUE(DecodeBarBlock(bars.front().time, static_cast<std::uint32_t>(bars.size()), blob, out.data()).ok());
  for (std::size_t i = 0; i < bars.size(); ++i) ASSERT_TRUE(out[i] == bars[i]) << i;
  EXPECT_FALSE(DecodeBarBlock(bars.front().time, 500, blob.substr(0, blob.size() - 1), out.data()).ok());
  EXPECT_FALSE(DecodeBarBlock(bars.front().time, 500, blob + "x", out.data()).ok());
}

}  // namespace
}  // namespace tickflow::store::detail
