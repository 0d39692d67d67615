#include <charconv>
#include <string>

#include "kraken_fees.inc"  // kKrakenFeesCsv: data/fees/kraken_spot.csv, embedded at build time
#include "tickflow/backtest/backtest.hpp"

namespace tickflow::backtest {

Result<FeeSchedule> FeeSchedule::Parse(std::string_view text) {
  FeeSchedule s;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    double v[3];
    std::size_t pos = 0;
    for (int k = 0; k < 3; ++k) {
      const std::size_t comma = k < 2 ? line.find(',', pos) : line.size();
      const std::string_view field = line.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
      const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v[k]);
      if (comma == std::string_view::npos || ec != std::errc() || end != field.data() + field.size() || v[k] < 0) {
        return MakeError(ErrorCode::kParse, "fee schedule line " + std::to_string(line_no) + ": '" + std::string(line) +
                                                "': expected min_volume,maker_percent,taker_percent");
      }
      pos = comma + 1;
    }
    if (!s.tiers_.empty() && v[0] <= s.tiers_.back().min_volume) {
      return MakeError(ErrorCode::kParse, "fee schedule line " + std::to_string(line_no) + ": tiers must ascend by volume");
    }
    s.tiers_.push_back(Tier{v[0], v[1] / 100, v[2] / 100});
  }
  if (s.tiers_.empty() || s.tiers_.front().min_volume != 0) {
    return MakeError(ErrorCode::kParse, "fee schedule: the first tier must start at volume 0");
  }
  return s;
}

const FeeSchedule& FeeSchedule::Kraken() {
  static const FeeSchedule kraken = Parse(kKrakenFeesCsv).value();
  return kraken;
}

const FeeSchedule::Tier& FeeSchedule::TierFor(double volume_30d) const {
  std::size_t i = 0;
  while (i + 1 < tiers_.size() && volume_30d >= tiers_[i + 1].min_volume) ++i;
  return tiers_[i];
}

}  // namespace tickflow::backtest
