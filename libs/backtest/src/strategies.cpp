#include "tickflow/backtest/strategies.hpp"

#include <algorithm>
#include <numeric>

#include "tickflow/core/check.hpp"
#include "tickflow/core/text.hpp"

namespace tickflow::backtest {

Result<Parameters> Parameters::Bind(std::string_view strategy, const std::vector<ParamSpec>& specs,
                                    const std::vector<std::string>& assignments) {
  std::map<std::string, std::string, std::less<>> given;
  std::string known;
  for (const ParamSpec& s : specs) known += (known.empty() ? "" : ", ") + s.name;
  if (known.empty()) known = "none";
  for (const std::string& a : assignments) {
    const std::size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      return MakeError(ErrorCode::kInvalidArgument, "--param '" + EscapeForMessage(a) + "': expected NAME=VALUE (" +
                                                        std::string(strategy) + " takes: " + known + ")");
    }
    const std::string name = a.substr(0, eq);
    bool found = false;
    for (const ParamSpec& s : specs) found = found || s.name == name;
    if (!found) {
      return MakeError(ErrorCode::kInvalidArgument, "unknown parameter '" + EscapeForMessage(name) + "' for strategy " +
                                                        std::string(strategy) + " (it takes: " + known + ")");
    }
    if (!given.emplace(name, a.substr(eq + 1)).second) {
      return MakeError(ErrorCode::kInvalidArgument, "parameter " + name + " is given twice");
    }
  }
  Parameters p;
  for (const ParamSpec& s : specs) {
    auto it = given.find(s.name);
    const std::string text = it == given.end() ? s.default_value : it->second;
    const std::string where = "parameter " + s.name + " of " + std::string(strategy) + ": '" + EscapeForMessage(text) + "'";
    Decimal v;
    if (Decimal::Parse(text, &v) != DecimalParseStatus::kOk || (s.type == ParamType::kInteger && v.scale() != 0)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       where + (s.type == ParamType::kInteger ? " is not an integer" : " is not a decimal number"));
    }
    if ((s.min && v < *s.min) || (s.max && v > *s.max)) {
      return MakeError(ErrorCode::kInvalidArgument, where + " is outside [" + (s.min ? s.min->ToString() : "") + ", " +
                                                        (s.max ? s.max->ToString() : "") + "]");
    }
    p.values_[s.name] = v;
    p.items_.emplace_back(s.name, v.ToString());
  }
  return p;
}

std::int64_t Parameters::Integer(std::string_view name) const { return Value(name).mantissa(); }

Decimal Parameters::Value(std::string_view name) const {
  auto it = values_.find(name);
  TICKFLOW_CHECK(it != values_.end(), "parameter not bound");
  return it->second;
}

Decimal Holding(const Account& account, SymbolId symbol) {
  Decimal out;
  const Amount q = account.position(symbol).quantity;
  if (q <= Amount()) return out;  // flat, the common case: no instrument lookup, no 128-bit modulo
  const Amount lot = Amount::FromDecimal(account.instrument(symbol).lot_size);
  if (lot.IsZero()) return out;
  (void)Amount::FromUnits(q.units() - q.units() % lot.units())
      .ToDecimal(account.instrument(symbol).lot_size.scale(), Rounding::kFloor, &out);
  return out;
}

Decimal QuantityForFraction(const Account& account, SymbolId symbol, Decimal fraction, Decimal price) {
  Amount budget;
  if (!Amount::Mul(account.available(account.instrument(symbol).quote), fraction, &budget)) return Decimal();
  return account.QuantityFor(symbol, budget, price);
}

Decimal BreakoutStrategy::DefaultFraction() {
  Decimal d;
  (void)Decimal::FromParts(95, 2, &d);
  return d;
}

void BreakoutStrategy::OnTrade(Account& account, const Trade& trade) {
  if (trade.symbol >= symbols_.size()) symbols_.resize(std::size_t{trade.symbol} + 1);
  auto& state = symbols_[trade.symbol];
  if (!state) state = std::make_unique<PerSymbol>();
  auto breakout = state->model.OnTrade(trade.time, trade.price);
  if (!breakout.ok()) return;
  if (const Amount& q = account.position(trade.symbol).quantity; q != state->held_of) {
    state->held_of = q;
    state->held = Holding(account, trade.symbol);
  }
  const Decimal held = state->held;
  if (held > Decimal() && held >= account.instrument(trade.symbol).min_order) {
    if (account.open_orders(trade.symbol) != 0) return;
    const models::MonthlyBreakoutModel& m = state->model;
    const bool new_month = m.current_month() != state->entry_month;
    const bool failed = m.previous_range() != nullptr && trade.price < m.previous_range()->close;
    if (new_month || failed) {
      const Decimal q = std::min(held, account.SellableQuantity(trade.symbol));
      if (q >= account.instrument(trade.symbol).min_order) account.Sell(trade.symbol, q);
    }
    return;
  }
  if (*breakout) {
    ++detections_;
    if (account.open_orders(trade.symbol) == 0) {
      account.Signal(trade.symbol, trade.price, "monthly breakout");
      const Decimal q = QuantityForFraction(account, trade.symbol, fraction_, trade.price);
      if (q >= account.instrument(trade.symbol).min_order) account.Buy(trade.symbol, q);  // else: no cash free
      state->entry_month = state->model.current_month();
    }
  }
}

void SmaCrossStrategy::OnBar(Account& account, SymbolId symbol, const Bar& bar) {
  State& s = state_[symbol];
  s.closes.push_back(bar.close.ToDouble());
  if (s.closes.size() > slow_) s.closes.pop_front();
  if (s.closes.size() < slow_) return;
  const double slow = std::accumulate(s.closes.begin(), s.closes.end(), 0.0) / static_cast<double>(slow_);
  const double fast =
      std::accumulate(s.closes.end() - static_cast<std::ptrdiff_t>(fast_), s.closes.end(), 0.0) / static_cast<double>(fast_);
  const int sign = fast > slow ? 1 : (fast < slow ? -1 : 0);
  const Decimal held = Holding(account, symbol);
  const bool holding = held >= account.instrument(symbol).min_order && held > Decimal();
  if (s.last_sign <= 0 && sign > 0 && !holding && account.open_orders(symbol) == 0) {
    account.Signal(symbol, bar.close, "fast SMA crossed above slow");
    const Decimal q = QuantityForFraction(account, symbol, fraction_, bar.close);
    if (q >= account.instrument(symbol).min_order) account.Buy(symbol, q);  // else: no cash free
  } else if (s.last_sign >= 0 && sign < 0 && holding) {
    account.CancelAll(symbol);
    account.Signal(symbol, bar.close, "fast SMA crossed below slow");
    const Decimal q = std::min(held, account.SellableQuantity(symbol));
    if (q >= account.instrument(symbol).min_order) account.Sell(symbol, q);
  }
  if (sign != 0) s.last_sign = sign;
}

namespace {
Decimal D(std::int64_t m, int scale) {
  Decimal d;
  (void)Decimal::FromParts(m, scale, &d);
  return d;
}
ParamSpec Fraction() {
  return {"fraction", ParamType::kDecimal, "0.95", "share of the quote currency available put into each entry",
          D(1, 4), D(1, 0)};
}
}  // namespace

const std::vector<StrategyInfo>& BuiltinStrategies() {
  static const std::vector<StrategyInfo> kAll = {
      {"breakout",
       "trades the monthly breakout causal model's detections: buys on a detection while flat, sells when the price "
       "falls below the previous month's close or a new month begins",
       {Fraction()},
       {},
       [](const Parameters& p) { return std::make_unique<BreakoutStrategy>(p.Value("fraction")); }},
      {"sma-cross",
       "moving averages of bar closes at --res: buys when the fast crosses above the slow, sells when it crosses below",
       {{"fast", ParamType::kInteger, "10", "bars in the fast average", D(1, 0), D(100000, 0)},
        {"slow", ParamType::kInteger, "30", "bars in the slow average (more than fast)", D(2, 0), D(100000, 0)},
        Fraction()},
       [](const Parameters& p) -> Status {
         if (p.Integer("fast") >= p.Integer("slow")) {
           return MakeError(ErrorCode::kInvalidArgument, "sma-cross: fast (" + std::to_string(p.Integer("fast")) +
                                                             ") must be less than slow (" +
                                                             std::to_string(p.Integer("slow")) + ")");
         }
         return {};
       },
       [](const Parameters& p) {
         return std::make_unique<SmaCrossStrategy>(static_cast<std::size_t>(p.Integer("fast")),
                                                   static_cast<std::size_t>(p.Integer("slow")), p.Value("fraction"));
       }},
  };
  return kAll;
}

const StrategyInfo* FindStrategy(std::string_view name) {
  for (const StrategyInfo& s : BuiltinStrategies()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace tickflow::backtest
