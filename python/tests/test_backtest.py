"""Backtests from Python: a Python SMA cross fills exactly like the built-in one; errors and exceptions;
sweeps, walk-forward and audit with Python strategies; the vectorised mode."""

import collections
import decimal

import numpy as np
import pandas as pd
import pytest

import tickflow
from conftest import run


class SmaCross(tickflow.Strategy):
    """The built-in sma-cross, rule for rule (libs/backtest/src/strategies.cpp)."""

    def __init__(self, fast=10, slow=30, fraction="0.95"):
        if fast >= slow:
            raise ValueError(f"fast ({fast}) must be less than slow ({slow})")
        self.fast, self.slow, self.fraction = fast, slow, fraction
        self.closes = collections.defaultdict(collections.deque)
        self.last_sign = collections.defaultdict(int)

    @staticmethod
    def mean(values):
        total = 0.0
        for v in values:  # left to right, as std::accumulate
            total += v
        return total / len(values)

    def on_bar(self, ctx, bar):
        s = bar.symbol
        closes = self.closes[s]
        closes.append(bar.close)
        if len(closes) > self.slow:
            closes.popleft()
        if len(closes) < self.slow:
            return
        slow = self.mean(closes)
        fast = self.mean(list(closes)[-self.fast:])
        sign = 1 if fast > slow else (-1 if fast < slow else 0)
        held = ctx.holding(s)
        min_order = ctx.instrument(s)["min_order"]
        holding = held >= min_order and held > 0
        if self.last_sign[s] <= 0 and sign > 0 and not holding and ctx.open_orders(s) == 0:
            ctx.signal(s, bar.close_exact, "fast SMA crossed above slow")
            q = ctx.quantity_for_fraction(s, self.fraction, bar.close_exact)
            if q >= min_order:
                ctx.buy(s, q)
        elif self.last_sign[s] >= 0 and sign < 0 and holding:
            ctx.cancel_all(s)
            ctx.signal(s, bar.close_exact, "fast SMA crossed below slow")
            q = min(held, ctx.sellable(s))
            if q >= min_order:
                ctx.sell(s, q)
        if sign != 0:
            self.last_sign[s] = sign


ARGS = dict(symbols=["XBTUSD"], resolution="1h", start="2023-01-01", end="2023-07-01")


def test_a_python_sma_cross_fills_exactly_like_the_built_in_one(generated_store):
    params = {"fast": 5, "slow": 20}
    py = tickflow.backtest(SmaCross, store=generated_store, params=params, **ARGS)
    cpp = tickflow.backtest("sma-cross", store=generated_store, params=params, **ARGS)
    assert len(py.fills) > 10
    pd.testing.assert_frame_equal(py.fills, cpp.fills)
    pd.testing.assert_frame_equal(py.orders, cpp.orders)
    pd.testing.assert_frame_equal(py.trips, cpp.trips)
    assert py.fingerprint == cpp.fingerprint
    assert py.metrics["final_equity"].tolist() == cpp.metrics["final_equity"].tolist()
    assert py.config["config"]["strategy"] == "SmaCross"


def test_a_glob_names_the_symbols_of_a_python_backtest(generated_store):
    params = {"fast": 5, "slow": 20}
    by_glob = tickflow.backtest(SmaCross, store=generated_store, params=params, **dict(ARGS, symbols=["XBTU*"]))
    by_name = tickflow.backtest(SmaCross, store=generated_store, params=params, **ARGS)
    assert len(by_glob.fills) > 10
    pd.testing.assert_frame_equal(by_glob.fills, by_name.fills)


def test_the_built_in_from_python_fills_exactly_like_the_cli(generated_store, tickflow_bin, tmp_path):
    cpp = tickflow.backtest("sma-cross", store=generated_store, params={"fast": 5, "slow": 20}, **ARGS)
    r = run(tickflow_bin, "backtest", "--strategy", "sma-cross", "--param", "fast=5", "--param", "slow=20",
            "--symbol", "XBTUSD", "--res", "1h", "--from", "2023-01-01", "--to", "2023-07-01", "--db", generated_store,
            "--fills", tmp_path / "fills.csv")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "fills.csv").read_text() == cpp._native.fills_csv()


def test_results_are_dataframes_other_tools_can_read(generated_store, tmp_path):
    r = tickflow.backtest("sma-cross", store=generated_store, **ARGS)
    assert list(r.metrics.index) == ["conservative", "optimistic", "buy and hold"]
    assert r.equity.index.is_monotonic_increasing and list(r.equity.columns) == list(r.metrics.index)
    assert decimal.Decimal(r.fills["price"].iloc[0]) > 0  # exact amounts as text
    assert str(r.fills["time"].dtype) == "datetime64[ns, UTC]"
    html = r.html(tmp_path / "report.html")
    assert "<html" in html and (tmp_path / "report.html").stat().st_size == len(html.encode())


class Raises(tickflow.Strategy):
    def on_bar(self, ctx, bar):
        if bar.time >= pd.Timestamp("2023-02-01", tz="UTC").value:
            raise ZeroDivisionError("strategy bug at " + str(bar))


def test_a_strategy_exception_stops_the_backtest_with_its_traceback(generated_store):
    with pytest.raises(ZeroDivisionError, match="strategy bug at Bar\\(XBTUSD 2023-02-01") as e:
        tickflow.backtest(Raises, store=generated_store, **ARGS)
    frames = [f.name for f in e.traceback]
    assert "on_bar" in frames


def test_a_constructor_exception_is_raised_too(generated_store):
    with pytest.raises(ValueError, match=r"fast \(30\) must be less than slow \(20\)"):
        tickflow.backtest(SmaCross, store=generated_store, params={"fast": 30, "slow": 20}, **ARGS)


def test_orders_from_python_are_checked_and_rejections_reported(generated_store):
    events = []

    class Bad(tickflow.Strategy):
        def on_start(self, ctx):
            self.sent = False

        def on_bar(self, ctx, bar):
            if not self.sent:
                self.sent = True
                ctx.buy("XBTUSD", "0.00000001")  # below the minimum order: rejected with the values
                with pytest.raises(ValueError, match="ETHXBT is not traded"):
                    ctx.buy("ETHXBT", 1)
                with pytest.raises(ValueError, match="quantity 'abc'"):
                    ctx.buy("XBTUSD", "abc")

        def on_order(self, ctx, event):
            events.append(event)

    tickflow.backtest(Bad, store=generated_store, models=["conservative"], **ARGS)
    assert events[0]["kind"] == "rejected" and "minimum" in events[0]["detail"]


def test_bad_backtest_arguments_name_the_parameter(generated_store):
    with pytest.raises(ValueError, match="parameter slow of sma-cross"):
        tickflow.backtest("sma-cross", store=generated_store, params={"slow": "x"}, **ARGS)
    with pytest.raises(ValueError, match="strategy 'nope'"):
        tickflow.backtest("nope", store=generated_store, **ARGS)
    with pytest.raises(ValueError, match="model 'fast'"):
        tickflow.backtest("sma-cross", store=generated_store, models=["fast"], **ARGS)
    with pytest.raises(LookupError, match="no trades"):
        tickflow.backtest("sma-cross", store=generated_store, symbols=["XBTUSD"], start="2030-01-01", end="2030-02-01")


def test_a_sweep_of_a_python_strategy_gives_the_overfitting_statistics(generated_store):
    result = tickflow.sweep(SmaCross, store=generated_store, grid={"fast": [3, 5, 8], "slow": [20, 40]},
                            check=lambda p: p["fast"] < p["slow"], **ARGS)
    s = result.summary(partitions=4)
    assert len(s["table"]) == 6 and s["best"] in s["table"]["configuration"].tolist()
    assert 0 <= s["deflated_sharpe"]["deflated_sharpe_ratio"] <= 1 and 0 <= s["pbo"]["probability_of_backtest_overfitting"] <= 1
    # each configuration is the same run as alone
    alone = tickflow.backtest(SmaCross, store=generated_store, params={"fast": 5, "slow": 40}, models=["conservative"], **ARGS)
    e = result.equity
    assert e["fast=5 slow=40 / conservative"].tolist() == alone.equity["conservative"].tolist()
    folds, oos, ret = tickflow.walk_forward(result, in_sample="60D", out_of_sample="30D")
    assert len(folds) >= 2 and len(oos) > 0 and np.isfinite(ret)


class KnowsTheEnd(tickflow.Strategy):
    """Acts on knowing where the data ends (a signal at the last bar): the decisions before a prefix's end then
    differ from those of the longer run, which is what the audit looks for."""

    def on_bar(self, ctx, bar):
        self.last = bar

    def on_end(self, ctx):
        ctx.signal("XBTUSD", self.last.close_exact, "the data ends here")


def test_the_audit_passes_a_clean_strategy_and_finds_look_ahead(generated_store):
    clean = tickflow.audit(SmaCross, store=generated_store, prefixes=2, params={"fast": 5, "slow": 20}, **ARGS)
    assert clean["ok"] and clean["decisions_checked"] > 0, clean
    found = tickflow.audit(KnowsTheEnd, store=generated_store, prefixes=2, **ARGS)
    assert not found["ok"] and "the data ends here" in found["look_ahead"], found


def test_vectorised_targets_trade_toward_the_position_after_each_bar(generated_store):
    def momentum(bars):
        return (bars["close"] > bars["close"].rolling(24).mean()).astype(float).where(lambda s: s.index >= 24)

    r = tickflow.backtest_targets(momentum, store=generated_store, symbol="XBTUSD", resolution="1h",
                                  start="2023-01-01", end="2023-03-01")
    assert len(r.fills) > 4
    assert r.config["config"]["strategy"] == "momentum"
    with pytest.raises(ValueError, match="one value per bar"):
        tickflow.backtest_targets(lambda b: [1.0], store=generated_store, symbol="XBTUSD", resolution="1h")


def test_a_context_kept_past_its_callback_refuses_to_trade(generated_store):
    kept = []

    class Keeps(tickflow.Strategy):
        def on_bar(self, ctx, bar):
            kept.append((ctx, bar))

    tickflow.backtest(Keeps, store=generated_store, models=["conservative"], **ARGS)
    ctx, bar = kept[-1]
    assert bar.symbol == "XBTUSD" and bar.close > 0  # the bar is a copy, still readable
    with pytest.raises(ValueError, match="only valid inside a strategy callback"):
        ctx.buy("XBTUSD", 1)
