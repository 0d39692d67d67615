"""A research session from Python (docs/python.md): load bars, compute a signal with pandas, backtest it,
sweep a strategy, and read the overfitting statistics.

    PYTHONPATH=build/release/python /usr/bin/python3 examples/python/research_session.py STORE [SYMBOL]
"""

import sys

import tickflow


class Breakout(tickflow.Strategy):
    """Buys when the close exceeds the highest close of the last `lookback` bars; sells below the lowest."""

    def __init__(self, lookback=24, fraction="0.9"):
        self.lookback, self.fraction = lookback, fraction
        self.closes = []

    def on_bar(self, ctx, bar):
        window = self.closes[-self.lookback:]
        self.closes.append(bar.close)
        if len(window) < self.lookback:
            return
        held = ctx.holding(bar.symbol)
        if bar.close > max(window) and held == 0 and ctx.open_orders(bar.symbol) == 0:
            q = ctx.quantity_for_fraction(bar.symbol, self.fraction, bar.close_exact)
            if q >= ctx.instrument(bar.symbol)["min_order"]:
                ctx.buy(bar.symbol, q)
        elif bar.close < min(window) and held > 0:
            ctx.sell(bar.symbol, min(held, ctx.sellable(bar.symbol)))


def main(store_path, symbol="XBTUSD"):
    store = tickflow.Store(store_path)
    print(store.symbols()[["symbol", "first", "last", "trades"]].to_string(index=False))

    # 1. Bars, and a signal computed with pandas: hold while the close is above its 48-hour mean.
    bars = store.bars(symbol, "1h")
    print(f"\n{len(bars)} hourly bars of {symbol}, {bars['time'].iloc[0]} .. {bars['time'].iloc[-1]}")

    def above_mean(b):
        mean = b["close"].rolling(48).mean()
        return (b["close"] > mean).astype(float).where(mean.notna())

    signal = tickflow.backtest_targets(above_mean, store=store, symbol=symbol, resolution="1h")
    print("\nvectorised signal (target positions per bar):")
    print(signal.metrics[["final_equity", "total_return", "sharpe", "max_drawdown", "fills"]].to_string())

    # 2. An event-driven Python strategy, every execution model in one pass.
    result = tickflow.backtest(Breakout, store=store, symbols=[symbol], resolution="1h", params={"lookback": 24})
    print("\nbreakout, lookback 24:")
    print(result.metrics[["final_equity", "total_return", "sharpe", "max_drawdown", "fills"]].to_string())
    print(f"{len(result.trips)} round trips; first fills:\n{result.fills.head(3).to_string(index=False)}")

    # 3. A sweep, and how much of the best result is luck.
    swept = tickflow.sweep(Breakout, store=store, symbols=[symbol], resolution="1h",
                           grid={"lookback": [6, 12, 24, 48, 96, 168]})
    s = swept.summary(partitions=4)
    print(f"\nsweep of {len(s['table'])} configurations, best by Sharpe: {s['best']}")
    print(f"deflated Sharpe ratio: {s['deflated_sharpe']['deflated_sharpe_ratio']:.3f} "
          f"(probability that the best is better than the best of {len(s['table'])} lucky tries)")
    print(f"probability of backtest overfitting: {s['pbo']['probability_of_backtest_overfitting']:.3f}")
    return result, swept


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(*sys.argv[1:])
