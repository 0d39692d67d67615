// Built-in strategies for `tickflow backtest`.
#pragma once

#include <deque>
#include <map>
#include <vector>
#include <memory>

#include "tickflow/backtest/backtest.hpp"
#include "tickflow/models/monthly_breakout.hpp"

namespace tickflow::backtest {

// Trades the monthly breakout model's detections: on a detection while flat,
// buys `fraction` of equity at market; exits at market when the price falls
// below the previous month's close (the breakout failed) or when a new month
// begins. Detections are marked as signals in the report.
class BreakoutStrategy final : public Strategy {
 public:
  explicit BreakoutStrategy(double fraction = 0.95) : fraction_(fraction) {}
  std::string name() const override { return "breakout"; }
  void OnTrade(Account& account, const Trade& trade) override;
  std::uint64_t detections() const { return detections_; }

 private:
  double fraction_;
  struct PerSymbol {
    models::MonthlyBreakoutModel model;
    UnixNanos entry_month;
  };
  std::vector<std::unique_ptr<PerSymbol>> symbols_ = std::vector<std::unique_ptr<PerSymbol>>(65536);
  std::uint64_t detections_ = 0;
};

// Simple moving averages of bar closes: buys `fraction` of equity when the
// fast average crosses above the slow one, sells everything when it crosses below.
class SmaCrossStrategy final : public Strategy {
 public:
  SmaCrossStrategy(std::size_t fast = 10, std::size_t slow = 30, double fraction = 0.95)
      : fast_(fast), slow_(slow), fraction_(fraction) {}
  std::string name() const override { return "sma-cross"; }
  void OnBar(Account& account, SymbolId symbol, const Bar& bar) override;

 private:
  struct State {
    std::deque<double> closes;
    int last_sign = 0;
  };
  std::size_t fast_, slow_;
  double fraction_;
  std::map<SymbolId, State> state_;
};

}  // namespace tickflow::backtest
