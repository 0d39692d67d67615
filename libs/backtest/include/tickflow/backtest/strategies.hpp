// Named, typed strategy parameters and the built-in strategies.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tickflow/backtest/backtest.hpp"
#include "tickflow/models/monthly_breakout.hpp"

namespace tickflow::backtest {

enum class ParamType : std::uint8_t { kInteger, kDecimal };

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kDecimal;
  std::string default_value;
  std::string help;
  std::optional<Decimal> min, max;  // inclusive bounds
};

// Values bound to a strategy's ParamSpecs from "name=value" assignments.
class Parameters {
 public:
  // Errors name the strategy, the parameter and the value: an unknown name (with
  // the known ones), a value of the wrong type, out of bounds, or given twice.
  static Result<Parameters> Bind(std::string_view strategy, const std::vector<ParamSpec>& specs,
                                 const std::vector<std::string>& assignments);
  std::int64_t Integer(std::string_view name) const;  // requires a bound kInteger
  Decimal Value(std::string_view name) const;         // requires a bound parameter
  // Every parameter with its value, in spec order (for the run's configuration).
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
  std::map<std::string, Decimal, std::less<>> values_;
};

struct StrategyInfo {
  std::string name, summary;
  std::vector<ParamSpec> params;
  // Checks across parameters (e.g. fast < slow); may be empty.
  std::function<Status(const Parameters&)> check;
  std::function<std::unique_ptr<Strategy>(const Parameters&)> make;
};
const std::vector<StrategyInfo>& BuiltinStrategies();
const StrategyInfo* FindStrategy(std::string_view name);

// The quantity of a symbol held, as a whole number of lots.
Decimal Holding(const Account& account, SymbolId symbol);
// `fraction` of the quote currency available, as a quantity at `price`.
Decimal QuantityForFraction(const Account& account, SymbolId symbol, Decimal fraction, Decimal price);

// Trades the monthly breakout model's detections: on a detection while flat,
// buys `fraction` of the quote currency available at market; exits at market
// when the price falls below the previous month's close (the breakout failed)
// or when a new month begins. Detections are marked as signals in the report.
class BreakoutStrategy final : public Strategy {
 public:
  explicit BreakoutStrategy(Decimal fraction = DefaultFraction()) : fraction_(fraction) {}
  std::string name() const override { return "breakout"; }
  void OnTrade(Account& account, const Trade& trade) override;
  std::uint64_t detections() const { return detections_; }
  static Decimal DefaultFraction();

 private:
  Decimal fraction_;
  struct PerSymbol {
    models::MonthlyBreakoutModel model;
    UnixNanos entry_month;
    // Holding() of the position quantity last seen: it changes only with fills,
    // and the strategy asks on every trade.
    Amount held_of{};
    Decimal held{};
  };
  std::vector<std::unique_ptr<PerSymbol>> symbols_;  // by symbol id, grown as symbols appear
  std::uint64_t detections_ = 0;
};

// Simple moving averages of bar closes: buys `fraction` of the quote currency
// available when the fast average crosses above the slow one, sells everything
// when it crosses below.
class SmaCrossStrategy final : public Strategy {
 public:
  SmaCrossStrategy(std::size_t fast = 10, std::size_t slow = 30, Decimal fraction = BreakoutStrategy::DefaultFraction())
      : fast_(fast), slow_(slow), fraction_(fraction) {}
  std::string name() const override { return "sma-cross"; }
  void OnBar(Account& account, SymbolId symbol, const Bar& bar) override;

 private:
  struct State {
    std::deque<double> closes;
    int last_sign = 0;
  };
  std::size_t fast_, slow_;
  Decimal fraction_;
  std::map<SymbolId, State> state_;
};

}  // namespace tickflow::backtest
