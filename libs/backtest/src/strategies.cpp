#include "tickflow/backtest/strategies.hpp"

#include <numeric>

namespace tickflow::backtest {

void BreakoutStrategy::OnTrade(Account& account, const Trade& trade) {
  auto& state = symbols_[trade.symbol];
  if (!state) state = std::make_unique<PerSymbol>();
  auto breakout = state->model.OnTrade(trade.time, trade.price);
  if (!breakout.ok()) return;
  const Position& pos = account.position(trade.symbol);
  if (pos.quantity > 0) {
    if (account.open_orders(trade.symbol) != 0) return;
    const models::Detection d = state->model.last();
    const bool new_month = d.current_month != state->entry_month;
    const bool failed = d.previous_month != UnixNanos::Min() && trade.price < d.previous.close;
    if (new_month || failed) account.Sell(trade.symbol, pos.quantity);
    return;
  }
  if (*breakout) {
    ++detections_;
    if (account.open_orders(trade.symbol) == 0) {
      account.Signal(trade.symbol, trade.price, "monthly breakout");
      account.Buy(trade.symbol, fraction_ * account.equity() / trade.price.ToDouble());
      state->entry_month = state->model.last().current_month;
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
  const Position& pos = account.position(symbol);
  if (s.last_sign <= 0 && sign > 0 && pos.quantity == 0 && account.open_orders(symbol) == 0) {
    account.Signal(symbol, bar.close, "fast SMA crossed above slow");
    account.Buy(symbol, fraction_ * account.equity() / bar.close.ToDouble());
  } else if (s.last_sign >= 0 && sign < 0 && pos.quantity > 0) {
    account.CancelAll(symbol);
    account.Signal(symbol, bar.close, "fast SMA crossed below slow");
    account.Sell(symbol, pos.quantity);
  }
  if (sign != 0) s.last_sign = sign;
}

}  // namespace tickflow::backtest
