// What the virtual exchange knows about markets and money: instrument rules
// (tick, lot, minimum order), currency precision, dated fee schedules and
// latency distributions. Each is parsed from text (a data file shipped in
// data/, compiled into the library, or one the user gives); parse errors name
// the source and the line. docs/backtest.md states how each is used.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tickflow/backtest/amount.hpp"
#include "tickflow/core/decimal.hpp"
#include "tickflow/core/result.hpp"
#include "tickflow/core/time.hpp"

namespace tickflow::backtest {

struct Instrument {
  std::string symbol, base, quote;
  Decimal tick_size;   // prices must be whole multiples
  Decimal lot_size;    // quantities must be whole multiples (base units)
  Decimal min_order;   // smallest quantity (base units)
  bool from_table = false;  // Kraken's published values; else derived from the data (docs/backtest.md)
};

// data/instruments/kraken_pairs.csv: symbol,tick_size,lot_size,min_order.
class InstrumentTable {
 public:
  static Result<InstrumentTable> Parse(std::string_view text, std::string_view source);
  static const InstrumentTable& Kraken();
  // The table's rules for `symbol`, or the default derived from the data's
  // precision: tick 10^-price_scale, lot 10^-volume_scale, minimum one lot.
  Instrument For(const std::string& symbol, const std::string& base, const std::string& quote, int price_scale,
                 int volume_scale) const;
  std::size_t size() const { return rows_.size(); }

 private:
  std::map<std::string, Instrument, std::less<>> rows_;
};

// data/instruments/kraken_assets.csv: currency,decimals (Kraken's asset
// precision, to which fees are rounded); other currencies get kDefaultDecimals.
class CurrencyTable {
 public:
  static constexpr int kDefaultDecimals = 8;
  static Result<CurrencyTable> Parse(std::string_view text, std::string_view source);
  static const CurrencyTable& Kraken();
  int DecimalsOf(std::string_view currency) const;

 private:
  std::map<std::string, int, std::less<>> decimals_;
};

struct FeeTier {
  Amount min_volume;  // 30-day volume in USD from which the tier applies
  Decimal maker;      // fractions: 0.0016 = 0.16 %
  Decimal taker;
};

// Fee tiers by 30-day volume, dated: each fill uses the schedule in force on its date.
// Lines "from_date,min_30d_volume_usd,maker_percent,taker_percent" ('#' comments);
// a schedule is the lines sharing a from_date, its first tier at volume 0.
class FeeSchedule {
 public:
  struct Period {
    UnixNanos from;
    std::vector<FeeTier> tiers;  // ascending min_volume, first at 0
  };
  static Result<FeeSchedule> Parse(std::string_view text, std::string_view source = "fee schedule");
  // Kraken's spot schedules since 2013 (data/fees/kraken_spot.csv, built in).
  static const FeeSchedule& Kraken();
  // The tier in force at `when` for that volume; before the first period, the first period's.
  const FeeTier& TierFor(UnixNanos when, Amount volume_30d_usd) const;
  const Period& PeriodAt(UnixNanos when) const;
  const std::vector<Period>& periods() const { return periods_; }

 private:
  std::vector<Period> periods_;  // ascending from
};

// Order-entry and market-data latency. An order (or cancel, or amend) sent
// while handling an event at time t reaches the exchange at
// t + market_data + order_entry, where order_entry is either the constant or,
// when samples are given, drawn for each order from them (uniformly, with a
// fixed seed: re-runs are identical).
struct Latency {
  std::chrono::nanoseconds order_entry{0};
  std::chrono::nanoseconds market_data{0};
  std::vector<std::int64_t> samples_ns;  // order-entry draws, if not empty
  bool IsZero() const { return order_entry.count() == 0 && market_data.count() == 0 && samples_ns.empty(); }
  // One latency in milliseconds per line ("12.5"), '#' comments; errors name source:line.
  static Result<std::vector<std::int64_t>> ParseSamples(std::string_view text, std::string_view source);
  std::string Describe() const;
};

// How resting orders fill (docs/backtest.md, "Execution models").
enum class FillRule : std::uint8_t {
  kTouch,         // optimistic: a trade at the limit fills, with that trade's whole volume
  kConservative,  // through by a tick, or at the price once the queue ahead traded; aggressor side; slippage
};

struct ExecutionModel {
  std::string name;
  FillRule rule = FillRule::kConservative;
  Latency latency;
};

std::string_view ToString(FillRule rule);

}  // namespace tickflow::backtest
