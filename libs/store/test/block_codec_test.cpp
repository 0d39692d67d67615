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

TEST(BlockCodecTest, BarVolumesBeyondADecimalRoundTrip) {
  WideDecimal wide;
  ASSERT_TRUE(WideDecimal::FromParts(WideDecimal::kMaxMantissa, 15, &wide));
  std::vector<Bar> bars = {Bar{UnixNanos{1000 * kNanosPerMinute}, Raw(100 << 4), Raw(100 << 4), Raw(100 << 4),
                               Raw(100 << 4), wide, 1},
                           Bar{UnixNanos{1001 * kNanosPerMinute}, Raw(100 << 4), Raw(100 << 4), Raw(100 << 4),
                               Raw(100 << 4), Raw(5 << 4 | 3), 2}};
  std::string blob;
  EncodeBarBlock(bars, &blob);
  std::vector<Bar> out(2);
  ASSERT_TRUE(DecodeBarBlock(bars.front().time, 2, blob, out.data()).ok());
  EXPECT_TRUE(out[0] == bars[0]) << out[0].volume.ToString();
  EXPECT_TRUE(out[1] == bars[1]);
}

// Damaged blobs decode to an error or to values the validation refuses, never
// to undefined behaviour (UBSan runs this in the debug build).
TEST(BlockCodecTest, RandomBlobsNeverOverflow) {
  std::mt19937_64 rng(11);
  std::vector<Bar> bars(64);
  std::vector<Trade> trades(64);
  for (int trial = 0; trial < 20000; ++trial) {
    std::string blob(1 + rng() % 700, '\0');
    for (char& c : blob) c = static_cast<char>(rng() % 4 == 0 ? 0xFF : rng());
    if (trial % 2 == 0) blob[0] = 1;
    (void)DecodeBarBlock(UnixNanos{static_cast<std::int64_t>(rng())}, 1 + rng() % 64, blob, bars.data());
    const std::uint32_t n = 1 + rng() % 64;
    std::string t(1 + 1 + (n * 64 + 7) / 8 + 8, '\xff'), p(1 + (n * 64 + 7) / 8 + 8, '\xff');
    t[0] = 3;
    t[1] = 64;
    p[0] = 64;
    (void)DecodeBlock(UnixNanos{static_cast<std::int64_t>(rng())}, n, t, p, p, 1, trades.data());
  }
}

// Blocks written before 128-bit volumes (no format byte, one volume varint) still read.
TEST(BlockCodecTest, BarBlocksOfTheFirstFormatStillRead) {
  // Two bars, minutes 0 and +3: delta, open-prev_close, high-open, low-open, close-open, volume, trades.
  const auto zz = [](std::int64_t v) { return static_cast<char>((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); };
  const std::string blob = {0, zz(32), zz(16), zz(-16), zz(0), zz(48 | 1), 7,
                            3, zz(0), zz(0), zz(0), zz(0), zz(16), 1};
  std::vector<Bar> out(2);
  ASSERT_TRUE(DecodeBarBlock(UnixNanos{60 * kNanosPerMinute}, 2, blob, out.data()).ok());
  EXPECT_EQ(out[0].open.ToString(), "2");
  EXPECT_EQ(out[0].high.ToString(), "3");
  EXPECT_EQ(out[0].low.ToString(), "1");
  EXPECT_EQ(out[0].volume.ToString(), "0.3");
  EXPECT_EQ(out[0].trades, 7u);
  EXPECT_EQ(out[1].time.ns, 63 * kNanosPerMinute);
  EXPECT_EQ(out[1].volume.ToString(), "1");
}

}  // namespace
}  // namespace tickflow::store::detail
