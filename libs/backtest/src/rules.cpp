#include "tickflow/backtest/rules.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "data_files.inc"  // data/fees/*.csv and data/instruments/*.csv, embedded at build time

namespace tickflow::backtest {
namespace {

// Calls `row(line_no, fields)` for every line that is not blank or a '#' comment.
template <typename Row>
Status ForEachRow(std::string_view text, std::size_t columns, std::string_view source, std::string_view expected,
                  Row&& row) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string_view> fields;
    for (std::size_t pos = 0;;) {
      const std::size_t comma = line.find(',', pos);
      fields.push_back(line.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
    const std::string where = std::string(source) + ":" + std::to_string(line_no) + ": ";
    if (fields.size() != columns) {
      return MakeError(ErrorCode::kParse, where + "'" + std::string(line) + "' has " + std::to_string(fields.size()) +
                                              " fields; expected " + std::string(expected));
    }
    if (Status s = row(where, fields); !s.ok()) return s;
  }
  return {};
}

Result<Decimal> PositiveDecimal(std::string_view text, const std::string& where, std::string_view what) {
  Decimal d;
  if (Decimal::Parse(text, &d) != DecimalParseStatus::kOk || !(d > Decimal())) {
    return MakeError(ErrorCode::kParse, where + std::string(what) + " '" + std::string(text) + "' is not a positive decimal");
  }
  return d;
}

Result<Decimal> Percent(std::string_view text, const std::string& where, std::string_view what) {
  Decimal d;
  Decimal fraction;
  if (Decimal::Parse(text, &d) != DecimalParseStatus::kOk || d < Decimal() ||
      !Decimal::FromParts(d.mantissa(), d.scale() + 2, &fraction) || d > Decimal::FromRaw(100 << Decimal::kScaleBits)) {
    return MakeError(ErrorCode::kParse, where + std::string(what) + " '" + std::string(text) +
                                            "' is not a percentage between 0 and 100 (like 0.26)");
  }
  return fraction;
}

Decimal PowerOfTen(int negative_exponent) {
  Decimal d;
  (void)Decimal::FromParts(1, std::clamp(negative_exponent, 0, Decimal::kMaxScale), &d);
  return d;
}

}  // namespace

Result<InstrumentTable> InstrumentTable::Parse(std::string_view text, std::string_view source) {
  InstrumentTable t;
  Status s = ForEachRow(text, 4, source, "symbol,tick_size,lot_size,min_order",
                        [&](const std::string& where, const std::vector<std::string_view>& f) -> Status {
                          Instrument in;
                          in.symbol = std::string(f[0]);
                          if (in.symbol.empty()) return MakeError(ErrorCode::kParse, where + "empty symbol");
                          auto tick = PositiveDecimal(f[1], where, "tick_size");
                          auto lot = PositiveDecimal(f[2], where, "lot_size");
                          auto min = PositiveDecimal(f[3], where, "min_order");
                          if (!tick.ok()) return tick.error();
                          if (!lot.ok()) return lot.error();
                          if (!min.ok()) return min.error();
                          in.tick_size = *tick;
                          in.lot_size = *lot;
                          in.min_order = *min;
                          in.from_table = true;
                          if (!t.rows_.emplace(in.symbol, in).second) {
                            return MakeError(ErrorCode::kParse, where + "symbol " + in.symbol + " is listed twice");
                          }
                          return {};
                        });
  if (!s.ok()) return s.error();
  return t;
}

const InstrumentTable& InstrumentTable::Kraken() {
  static const InstrumentTable table = Parse(kKrakenPairsCsv, "data/instruments/kraken_pairs.csv").value();
  return table;
}

Instrument InstrumentTable::For(const std::string& symbol, const std::string& base, const std::string& quote,
                                int price_scale, int volume_scale) const {
  Instrument in;
  if (auto it = rows_.find(symbol); it != rows_.end()) {
    in = it->second;
  } else {
    in.symbol = symbol;
    in.tick_size = PowerOfTen(price_scale);
    in.lot_size = PowerOfTen(volume_scale);
    in.min_order = in.lot_size;
  }
  in.base = base;
  in.quote = quote;
  return in;
}

Result<CurrencyTable> CurrencyTable::Parse(std::string_view text, std::string_view source) {
  CurrencyTable t;
  Status s = ForEachRow(text, 2, source, "currency,decimals",
                        [&](const std::string& where, const std::vector<std::string_view>& f) -> Status {
                          int d = -1;
                          const auto [end, ec] = std::from_chars(f[1].data(), f[1].data() + f[1].size(), d);
                          if (f[0].empty() || ec != std::errc() || end != f[1].data() + f[1].size() || d < 0 ||
                              d > Decimal::kMaxScale) {
                            return MakeError(ErrorCode::kParse, where + "expected a currency and 0..15 decimals, got '" +
                                                                    std::string(f[0]) + "," + std::string(f[1]) + "'");
                          }
                          t.decimals_[std::string(f[0])] = d;
                          return {};
                        });
  if (!s.ok()) return s.error();
  return t;
}

const CurrencyTable& CurrencyTable::Kraken() {
  static const CurrencyTable table = Parse(kKrakenAssetsCsv, "data/instruments/kraken_assets.csv").value();
  return table;
}

int CurrencyTable::DecimalsOf(std::string_view currency) const {
  auto it = decimals_.find(currency);
  return it == decimals_.end() ? kDefaultDecimals : it->second;
}

Result<FeeSchedule> FeeSchedule::Parse(std::string_view text, std::string_view source) {
  FeeSchedule s;
  Status st = ForEachRow(
      text, 4, source, "from_date,min_30d_volume_usd,maker_percent,taker_percent",
      [&](const std::string& where, const std::vector<std::string_view>& f) -> Status {
        auto from = ParseTime(f[0]);
        if (!from.ok()) return MakeError(ErrorCode::kParse, where + "from_date: " + from.error().message);
        auto volume = Amount::Parse(f[1]);
        if (!volume.ok() || volume->IsNegative()) {
          return MakeError(ErrorCode::kParse, where + "min_30d_volume_usd '" + std::string(f[1]) + "' is not a volume >= 0");
        }
        auto maker = Percent(f[2], where, "maker_percent");
        if (!maker.ok()) return maker.error();
        auto taker = Percent(f[3], where, "taker_percent");
        if (!taker.ok()) return taker.error();
        if (s.periods_.empty() || s.periods_.back().from != *from) {
          if (!s.periods_.empty() && *from < s.periods_.back().from) {
            return MakeError(ErrorCode::kParse, where + "schedules must come in date order");
          }
          if (!s.periods_.empty() && s.periods_.back().tiers.front().min_volume != Amount()) {
            return MakeError(ErrorCode::kParse, where + "the schedule before this line does not start at volume 0");
          }
          s.periods_.push_back(Period{*from, {}});
        } else if (*volume <= s.periods_.back().tiers.back().min_volume) {
          return MakeError(ErrorCode::kParse, where + "tiers must ascend by volume within a schedule");
        }
        s.periods_.back().tiers.push_back(FeeTier{*volume, *maker, *taker});
        return {};
      });
  if (!st.ok()) return st.error();
  if (s.periods_.empty()) return MakeError(ErrorCode::kParse, std::string(source) + ": no fee tiers");
  if (s.periods_.back().tiers.front().min_volume != Amount()) {
    return MakeError(ErrorCode::kParse, std::string(source) + ": the last schedule does not start at volume 0");
  }
  return s;
}

const FeeSchedule& FeeSchedule::Kraken() {
  static const FeeSchedule kraken = Parse(kKrakenFeesCsv, "data/fees/kraken_spot.csv").value();
  return kraken;
}

const FeeSchedule::Period& FeeSchedule::PeriodAt(UnixNanos when) const {
  std::size_t i = 0;
  while (i + 1 < periods_.size() && when >= periods_[i + 1].from) ++i;
  return periods_[i];
}

const FeeTier& FeeSchedule::TierFor(UnixNanos when, Amount volume_30d_usd) const {
  const std::vector<FeeTier>& tiers = PeriodAt(when).tiers;
  std::size_t i = 0;
  while (i + 1 < tiers.size() && volume_30d_usd >= tiers[i + 1].min_volume) ++i;
  return tiers[i];
}

Result<std::vector<std::int64_t>> Latency::ParseSamples(std::string_view text, std::string_view source) {
  std::vector<std::int64_t> out;
  Status s = ForEachRow(text, 1, source, "one latency in milliseconds",
                        [&](const std::string& where, const std::vector<std::string_view>& f) -> Status {
                          double ms = -1;
                          const auto [end, ec] = std::from_chars(f[0].data(), f[0].data() + f[0].size(), ms);
                          if (ec != std::errc() || end != f[0].data() + f[0].size() || !(ms >= 0) || ms > 3.6e6) {
                            return MakeError(ErrorCode::kParse, where + "'" + std::string(f[0]) +
                                                                    "' is not a latency in milliseconds (0 .. 3600000)");
                          }
                          out.push_back(std::llround(ms * 1e6));
                          return {};
                        });
  if (!s.ok()) return s.error();
  if (out.empty()) return MakeError(ErrorCode::kParse, std::string(source) + ": no latencies");
  return out;
}

std::string Latency::Describe() const {
  char buf[160];
  if (!samples_ns.empty()) {
    std::vector<std::int64_t> sorted = samples_ns;
    std::sort(sorted.begin(), sorted.end());
    std::snprintf(buf, sizeof buf, "order entry drawn from %zu samples (median %.3f ms), market data %.3f ms",
                  sorted.size(), static_cast<double>(sorted[sorted.size() / 2]) / 1e6,
                  static_cast<double>(market_data.count()) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "order entry %.3f ms, market data %.3f ms", static_cast<double>(order_entry.count()) / 1e6,
                  static_cast<double>(market_data.count()) / 1e6);
  }
  return buf;
}

std::string_view ToString(FillRule rule) { return rule == FillRule::kTouch ? "touch" : "conservative"; }

}  // namespace tickflow::backtest
