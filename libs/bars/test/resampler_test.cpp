#include "tickflow/bars/resampler.hpp"

#include <gtest/gtest.h>

#include "tickflow/test/values.hpp"

#include <random>
#include <vector>

namespace tickflow::bars {
namespace {

using tickflow::test::D;
UnixNanos T(const char* iso) { return ParseTime(iso).value(); }

template <class In>
std::vector<Bar> Resample(TimeResolution res, const std::vector<In>& input) {
  Resampler r(res);
  std::vector<Bar> out;
  Bar done;
  for (const In& x : input) {
    const AddStatus s = r.Add(x, &done);
    EXPECT_TRUE(s == AddStatus::kPending || s == AddStatus::kBarDone);
    if (s == AddStatus::kBarDone) out.push_back(done);
  }
  if (r.Flush(&done)) out.push_back(done);
  return out;
}

TEST(ResamplerTest, BuildsOhlcvByTheRules) {
  const std::vector<Trade> trades = {
      {T("2019-07-01T00:00:03.172Z"), D("10749.4"), D("0.004")},
      {T("2019-07-01T00:00:05Z"), D("10759.9"), D("0.0516")},
      {T("2019-07-01T00:00:59.999Z"), D("10700"), D("1")},
      {T("2019-07-01T00:00:59.999Z"), D("10750.0"), D("0.5")},
      {T("2019-07-01T00:03:00Z"), D("10800"), D("2")},  // minutes 1 and 2 have no trades
  };
  const auto bars = Resample(TimeResolution::kOneMinute, trades);
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_EQ(bars[0].time, T("2019-07-01T00:00Z"));
  EXPECT_EQ(bars[0].open.ToString(), "10749.4");
  EXPECT_EQ(bars[0].high.ToString(), "10759.9");
  EXPECT_EQ(bars[0].low.ToString(), "10700");
  EXPECT_EQ(bars[0].close.ToString(), "10750.0");
  EXPECT_EQ(bars[0].volume.ToString(), "1.5556");
  EXPECT_EQ(bars[0].trades, 4u);
  EXPECT_EQ(bars[1].time, T("2019-07-01T00:03Z"));
  EXPECT_EQ(bars[1].trades, 1u);
}

TEST(ResamplerTest, RejectsOutOfOrderInput) {
  Resampler r(TimeResolution::kOneMinute);
  Bar done;
  EXPECT_EQ(r.Add(Trade{T("2019-07-01T00:05Z"), D("1"), D("1")}, &done), AddStatus::kPending);
  EXPECT_EQ(r.Add(Trade{T("2019-07-01T00:04Z"), D("1"), D("1")}, &done), AddStatus::kOutOfOrder);
}

// Issue 13 item 6: sums that outgrow a Decimal are exact, not refused.
TEST(ResamplerTest, VolumeSumsBeyondADecimalStayExact) {
  Resampler minute(TimeResolution::kOneMinute);
  Bar done;
  EXPECT_EQ(minute.Add(Trade{T("2019-07-01T00:00:01Z"), D("1"), D("99999999")}, &done), AddStatus::kPending);
  EXPECT_EQ(minute.Add(Trade{T("2019-07-01T00:00:02Z"), D("1"), D("0.000000000000001")}, &done), AddStatus::kPending);
  ASSERT_TRUE(minute.Flush(&done));
  EXPECT_EQ(done.volume.ToString(), "99999999.000000000000001");
  // The largest Decimal volume, twice, then a year of a SHIB-like market (50 M units a trade, 8 decimals).
  Resampler day(TimeResolution::kOneYear);
  const Trade big{T("2019-07-01"), D("1"), D("576460752303423487")};
  EXPECT_EQ(day.Add(big, &done), AddStatus::kPending);
  EXPECT_EQ(day.Add(big, &done), AddStatus::kPending);
  ASSERT_TRUE(day.Flush(&done));
  EXPECT_EQ(done.volume.ToString(), "1152921504606846974");
  Resampler year(TimeResolution::kOneYear);
  Bar minute_bar{T("2021-01-01"), D("0.00001"), D("0.00001"), D("0.00001"), D("0.00001"), D("150000000.12345678"), 3};
  for (int i = 0; i < 525600; ++i) {
    minute_bar.time = UnixNanos{T("2021-01-01").ns + i * kNanosPerMinute};
    ASSERT_NE(year.Add(minute_bar, &done), AddStatus::kVolumeOverflow) << i;
  }
  ASSERT_TRUE(year.Flush(&done));
  EXPECT_EQ(done.volume.ToString(), "78840000064888.88356800");  // 525,600 x 150000000.12345678
  EXPECT_EQ(done.trades, 3u * 525600);
}

TEST(ResamplerTest, ReportsVolumeOverflowInsteadOfWrapping) {
  Resampler r(TimeResolution::kOneYear);
  Bar done;
  WideDecimal huge;
  ASSERT_TRUE(WideDecimal::FromParts(WideDecimal::kMaxMantissa, 0, &huge));
  const Bar b{T("2019-07-01"), D("1"), D("1"), D("1"), D("1"), huge, 1};
  EXPECT_EQ(r.Add(b, &done), AddStatus::kPending);
  EXPECT_EQ(r.Add(b, &done), AddStatus::kVolumeOverflow);
}

// Property: for every resolution, bars from the trades equal bars aggregated
// from the 1-minute bars, over random multi-year data with bursts and gaps.
TEST(ResamplerPropertyTest, BarsFromTradesEqualBarsFromMinuteBars) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    std::mt19937_64 rng(seed);
    std::vector<Trade> trades;
    std::int64_t t = T("2015-12-28T23:58Z").ns;
    std::int64_t price = 4000000;
    for (int i = 0; i < 60000; ++i) {
      const auto kind = rng() % 10;
      if (kind < 4) {
        t += 0;  // a burst in the same instant
      } else if (kind < 8) {
        t += static_cast<std::int64_t>(rng() % (120 * kNanosPerSecond));
      } else {
        t += static_cast<std::int64_t>(rng() % (3 * kNanosPerDay));
      }
      price += static_cast<std::int64_t>(rng() % 2001) - 1000;
      if (price < 1000) price = 1000;
      Decimal p, v;
      ASSERT_TRUE(Decimal::FromParts(price, static_cast<int>(rng() % 3), &p));
      ASSERT_TRUE(Decimal::FromParts(static_cast<std::int64_t>(rng() % 100000000) + 1, 8, &v));
      trades.push_back(Trade{UnixNanos{t}, p, v});
    }
    const auto minutes = Resample(TimeResolution::kOneMinute, trades);
    for (TimeResolution res : AllResolutions()) {
      const auto direct = Resample(res, trades);
      const auto from_minutes = Resample(res, minutes);
      ASSERT_EQ(direct.size(), from_minutes.size()) << ToString(res);
      for (std::size_t i = 0; i < direct.size(); ++i) {
        ASSERT_TRUE(direct[i] == from_minutes[i]) << ToString(res) << " bar " << i;
      }
      std::uint64_t total = 0;
      for (const Bar& b : direct) total += b.trades;
      EXPECT_EQ(total, trades.size());
    }
  }
}

}  // namespace
}  // namespace tickflow::bars
