"""Backtests, sweeps, walk-forward validation and look-ahead audits with built-in or Python strategies.

A Python strategy is a class (or any callable returning an object) with some of these methods, each given
the Context `ctx` (buy, sell, submit, cancel, amend, position, positions, balance, cash, equity, ...):

    class SmaCross(tickflow.Strategy):
        def __init__(self, fast=10, slow=30): ...
        def on_start(self, ctx): ...
        def on_trade(self, ctx, trade): ...      # every trade of the traded symbols (slow in Python)
        def on_bar(self, ctx, bar): ...          # each complete bar at the backtest's resolution
        def on_order(self, ctx, event): ...      # accepted, rejected (with reason), filled, cancelled, ...
        def on_fill(self, ctx, fill): ...
        def on_timer(self, ctx, tag): ...        # after ctx.set_timer(at_ns, tag)
        def on_end(self, ctx): ...

Parameters are the class's keyword arguments (params={"fast": 5}). Every execution model runs its own instance.
An exception in a method stops the backtest and is raised again from backtest(), traceback included.
"""

import io
import itertools
import json
import random

import numpy as np
import pandas as pd

from . import _tickflow
from ._time import to_ns, to_timedelta_ns, utc
from .store import Store


class Strategy:
    """Optional base class: every callback does nothing until overridden."""

    name = None


def _read_csv(text, times):
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    for c in times:
        if c in frame:
            frame[c] = pd.to_datetime(frame[c].replace("", None), utc=True)
    return frame


class BacktestResult:
    """What a backtest produced, for every execution model (and, in a sweep, every configuration).

    fills, orders, trips: DataFrames with exact amounts as text (the CSV columns of `tickflow backtest`);
    equity: one column per run plus buy_and_hold, indexed by time; metrics: one row per run;
    config: the run's configuration (JSON of `tickflow backtest --json`); html(): the tearsheet."""

    def __init__(self, native):
        self._native = native
        self._cache = {}

    def _get(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def fills(self):
        return self._get("fills", lambda: _read_csv(self._native.fills_csv(), ["time"]))

    @property
    def orders(self):
        return self._get("orders", lambda: _read_csv(self._native.orders_csv(), ["placed", "arrives"]))

    @property
    def trips(self):
        return self._get("trips", lambda: _read_csv(self._native.trips_csv(), ["opened", "closed"]))

    @property
    def equity(self):
        def make():
            e = self._native.equity()
            columns = {}
            index = None
            for run in e["runs"]:
                index = utc(run["time"])
                columns[run["label"]] = pd.Series(run["equity"], index=index)
            bench = e["benchmark"]
            if len(bench["time"]):
                columns["buy and hold"] = pd.Series(bench["equity"], index=utc(bench["time"]))
            frame = pd.DataFrame(columns)
            frame.index.name = "time"
            return frame
        return self._get("equity", make)

    @property
    def metrics(self):
        def make():
            frame = pd.DataFrame(self._native.metrics())
            return frame.set_index("label")
        return self._get("metrics", make)

    @property
    def config(self):
        return self._get("config", lambda: json.loads(self._native.json()))

    @property
    def fingerprint(self):
        """Trades seen, first and last time, and a hash of them: identical runs saw identical data."""
        return self._native.fingerprint

    @property
    def seconds(self):
        return self._native.seconds

    def html(self, path=None):
        """The HTML tearsheet (as `tickflow backtest --out`); written to `path` when given."""
        text = self._native.html()
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    def summary(self, metric="sharpe", partitions=8):
        """A sweep's statistics: the best configuration by `metric` (sharpe or return), the deflated Sharpe ratio of
        that choice among all configurations, and the probability of backtest overfitting (CSCV, `partitions` blocks)."""
        s = self._native.summarize(metric, partitions)
        table = pd.DataFrame(s["moments"])
        table.insert(0, "configuration", s["labels"])
        table.insert(1, "score", s["scores"])
        return {"metric": s["metric"], "best": s["labels"][s["best"]], "table": table,
                "deflated_sharpe": s["deflated_sharpe"], "pbo": s["pbo"]}

    def __repr__(self):
        m = self.metrics
        return f"BacktestResult({len(m) - 1} runs, {self.fingerprint})\n{m[['final_equity', 'total_return', 'sharpe', 'max_drawdown', 'fills']]}"


_MODELS = ("conservative", "optimistic")


def _options(store, symbols, start, end, resolution, cash, base, models, latency_ms, md_latency_ms, fee_in_base,
             fees, instruments):
    if store is None:
        raise ValueError("store: give the store to read (a path, a clickhouse:// URL or a tickflow.Store)")
    location = store.location if isinstance(store, Store) else str(store)
    symbols = [symbols] if isinstance(symbols, str) else list(symbols)
    if cash is None:
        cash = {base: 100000}
    elif not isinstance(cash, dict):
        cash = {base: cash}
    models = [models] if isinstance(models, str) else list(models)
    if "latency" not in models and (latency_ms or md_latency_ms):
        models.append("latency")

    def read(path):
        if path is None:
            return ""
        with open(path, encoding="utf-8") as f:
            return f.read()

    return dict(store=location, symbols=symbols, start=to_ns(start, "start"), end=to_ns(end, "end"),
                resolution=resolution, cash={str(k): str(v) for k, v in cash.items()}, base=base, models=models,
                latency_ms=float(latency_ms), md_latency_ms=float(md_latency_ms), fee_in_base=fee_in_base,
                fees_csv=read(fees), instruments_csv=read(instruments))


def backtest(strategy, *, store, symbols, params=None, start=None, end=None, resolution="1d", cash=None,
             base="USD", models=_MODELS, latency_ms=0.0, md_latency_ms=0.0, fee_in_base=False, fees=None,
             instruments=None):
    """Backtests `strategy` (a built-in's name such as "sma-cross", or a Python class/factory called with
    **params) on `symbols` of `store` over [start, end), every execution model in one pass (the first is the
    headline). cash: an amount of `base`, or {currency: amount}. fees/instruments: CSV files as
    `tickflow backtest --fees/--instruments`. Returns a BacktestResult."""
    o = _options(store, symbols, start, end, resolution, cash, base, models, latency_ms, md_latency_ms, fee_in_base,
                 fees, instruments)
    run = _tickflow._Run("", strategy, dict(params or {}))
    return BacktestResult(_tickflow._backtest(runs=[run], **o))


class _Targets(Strategy):
    """Trades toward target positions given per bar (a fraction of equity held in the symbol's base currency)."""

    def __init__(self, symbol, targets):
        self.symbol, self.targets = symbol, targets

    def on_bar(self, ctx, bar):
        target = self.targets.get(bar.time)
        if target is None or not np.isfinite(target):
            return
        equity = float(ctx.equity)
        held = float(ctx.position(self.symbol)["quantity"])
        want = max(0.0, min(1.0, float(target))) * equity / bar.close
        delta = want - held
        if delta > 0:
            q = ctx.quantity_for(self.symbol, min(delta * bar.close, float(ctx.available()) * 0.99), bar.close_exact)
            if q > 0:
                ctx.buy(self.symbol, q)
        elif delta < 0:
            q = min(-delta, float(ctx.sellable(self.symbol)))
            q = ctx.quantity_for(self.symbol, q * bar.close, bar.close_exact)
            if q > 0:
                ctx.sell(self.symbol, q)


def backtest_targets(targets, *, store, symbol, resolution="1d", start=None, end=None, **options):
    """Vectorised mode: `targets(bars)` gets the symbol's bars (Store.bars) and returns, per bar, the fraction of
    equity to hold in the symbol (0 = flat, 1 = all in; NaN = no change). The position is changed after each bar
    closes, at market, through the same virtual exchange as any strategy (nothing is filled at the bar's own close)."""
    s = store if isinstance(store, Store) else Store(store)
    bars = s.bars(symbol, resolution, start, end)
    values = np.asarray(targets(bars), dtype=float)
    if values.shape != (len(bars),):
        raise ValueError(f"targets: expected one value per bar ({len(bars)}), got shape {values.shape}")
    by_time = dict(zip(bars["time"].astype("int64").tolist(), values.tolist()))
    factory = lambda: _Targets(symbol, by_time)  # noqa: E731
    factory.__name__ = getattr(targets, "__name__", "targets")
    return backtest(factory, store=s, symbols=[symbol], resolution=resolution, start=start, end=end, **options)


def _grid(grid):
    names = list(grid)
    for values in itertools.product(*(list(grid[n]) for n in names)):
        yield dict(zip(names, values))


def _label(params):
    return " ".join(f"{k}={v}" for k, v in params.items())


def sweep(strategy, *, store, symbols, grid=None, random_ranges=None, samples=0, seed=1, model="conservative",
          start=None, end=None, resolution="1d", cash=None, base="USD", check=None, **options):
    """Runs every configuration of `grid` ({name: [values]}, all combinations) or `samples` random draws of
    `random_ranges` ({name: (low, high)}, integers when both ends are) in one pass over the data under one
    execution model. `check(params)` may return False to skip a configuration. Returns a BacktestResult whose
    summary() gives the best configuration, the deflated Sharpe ratio and the PBO."""
    if (grid is None) == (random_ranges is None):
        raise ValueError("sweep: give grid={name: [values]} or random_ranges={name: (low, high)} with samples=N")
    if grid is not None:
        configs = list(_grid(grid))
    else:
        if samples < 2:
            raise ValueError("samples: a random sweep needs at least 2 draws")
        rng = random.Random(seed)
        configs = []
        for _ in range(samples):
            c = {}
            for name, (lo, hi) in random_ranges.items():
                if lo > hi:
                    raise ValueError(f"random_ranges: {name} low {lo} is above high {hi}")
                c[name] = rng.randint(lo, hi) if isinstance(lo, int) and isinstance(hi, int) else rng.uniform(lo, hi)
            configs.append(c)
    if check is not None:
        configs = [c for c in configs if check(c)]
    if len(configs) < 2:
        raise ValueError(f"sweep: {len(configs)} configuration(s) to run; a sweep needs at least 2")
    o = _options(store, symbols, start, end, resolution, cash, base, [model], 0.0, 0.0,
                 options.pop("fee_in_base", False), options.pop("fees", None), options.pop("instruments", None))
    if options:
        raise TypeError(f"sweep: unexpected arguments {sorted(options)}")
    runs = [_tickflow._Run(_label(c), strategy, c) for c in configs]
    return BacktestResult(_tickflow._backtest(runs=runs, **o))


def walk_forward(result, *, in_sample, out_of_sample, purge=0, embargo=0, anchored=False, metric="sharpe"):
    """Walk-forward validation of a sweep's result (docs/research.md): in each fold the configuration best
    in-sample by `metric` is kept out-of-sample. Windows are durations ("180D", "30D", pandas Timedelta).
    Returns (folds DataFrame, stitched out-of-sample equity Series, out-of-sample return)."""
    w = result._native.walk_forward(to_timedelta_ns(in_sample, "in_sample"), to_timedelta_ns(out_of_sample, "out_of_sample"),
                                    to_timedelta_ns(purge, "purge"), to_timedelta_ns(embargo, "embargo"), anchored, metric)
    folds = pd.DataFrame(w["folds"])
    for c in ("is_from", "is_to", "oos_from", "oos_to"):
        if c in folds:
            folds[c] = pd.to_datetime(folds[c], utc=True)
    equity = pd.Series(w["equity"], index=utc(w["time"]), name="out of sample")
    return folds, equity, w["out_of_sample_return"]


def audit(strategy, *, store, symbols, params=None, prefixes=4, start=None, end=None, resolution="1d", **options):
    """Look-ahead and determinism audit: the strategy over the whole range twice and over `prefixes` prefixes
    of it; every decision made before a prefix ends must be the same in the longer run. Returns a dict with
    ok, look_ahead and nondeterminism (what differed, or None)."""
    if not 1 <= prefixes <= 64:
        raise ValueError("prefixes: must be 1 .. 64")
    common = dict(store=store, symbols=symbols, params=params, resolution=resolution, models=["conservative"], **options)
    full = backtest(strategy, start=start, end=end, **common)
    rerun = backtest(strategy, start=start, end=end, **common)
    m = full._native.metrics()[0]
    first, last = pd.Timestamp(m["first"]).value, pd.Timestamp(m["last"]).value
    ends, runs = [], []
    for k in range(1, prefixes + 1):
        cut = first + (last - first) // (prefixes + 1) * k
        ends.append(cut)
        runs.append(backtest(strategy, start=start, end=cut, **common)._native)
    return _tickflow._audit(full._native, rerun._native, runs, ends)
