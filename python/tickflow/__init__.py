"""tickflow from Python: the tick store, imports, replay, backtests and research.

    import tickflow
    store = tickflow.Store("tickflow.db")            # or "clickhouse://127.0.0.1:8123/tickflow"
    store.symbols()                                  # DataFrame, one row per market
    trades = store.trades("XBTUSD", start="2019-01-01", end="2019-02-01")
    bars = store.bars("XBTUSD", "1h")
    result = tickflow.backtest(MyStrategy, store=store, symbols=["XBTUSD"], resolution="1h")
    result.fills, result.equity, result.metrics, result.html()

Times are pandas datetime64[ns, UTC]; prices and volumes come as float64 and
exactly (integer mantissa and scale columns, or decimal.Decimal on request).
See docs/python.md.
"""

from ._tickflow import Error, BUILTIN_STRATEGIES, Context, Trade, Bar, __version__, set_buffer_cache, buffer_cache
from .store import Store, import_data, BadRowError, to_decimal
from .replay import replay
from .backtest import Strategy, BacktestResult, backtest, backtest_targets, sweep, walk_forward, audit

__all__ = [
    "Error", "BadRowError", "Store", "import_data", "replay", "Strategy", "BacktestResult", "backtest",
    "backtest_targets", "sweep", "walk_forward", "audit", "to_decimal", "Context", "Trade", "Bar",
    "BUILTIN_STRATEGIES", "__version__", "set_buffer_cache", "buffer_cache",
]
