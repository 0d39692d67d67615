"""Benchmark of the Python module (docs/benchmarks.md, "Python"), every figure against a baseline in the same run:

  1. Store.trades of N trades into numpy/pandas vs the C++ store scan of the same trades (no columns) and
     vs pandas.read_csv of the same Kraken CSV files; with the buffer cache (repeated queries) and without
     (every buffer fresh from the kernel, as a first query);
  2. Store.iter_trades over the same trades: peak RSS growth;
  3. a Python per-bar strategy over a year of 1-minute bars vs the built-in sma-cross on the same bars.

    PYTHONPATH=build/release/python /usr/bin/python3 python/bench/store_bench.py --rows 20000000 --runs 3
"""

import argparse
import pathlib
import resource
import statistics
import subprocess
import tempfile
import time

import numpy as np
import pandas as pd

import tickflow


def timed(f, runs):
    out, secs = None, []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = f()
        secs.append(time.perf_counter() - t0)
    return out, statistics.median(secs)


class PerBar(tickflow.Strategy):
    """A per-bar Python strategy: a 60-bar mean crossing, one order per crossing."""

    def __init__(self):
        self.closes, self.above = [], None

    def on_bar(self, ctx, bar):
        self.closes.append(bar.close)
        if len(self.closes) < 60:
            return
        mean = sum(self.closes[-60:]) / 60
        above = bar.close > mean
        if above != self.above:
            self.above = above
            held = ctx.holding(bar.symbol)
            if above and held == 0:
                q = ctx.quantity_for_fraction(bar.symbol, "0.5", bar.close_exact)
                if q >= ctx.instrument(bar.symbol)["min_order"]:
                    ctx.buy(bar.symbol, q)
            elif not above and held > 0:
                ctx.sell(bar.symbol, min(held, ctx.sellable(bar.symbol)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=20_000_000, help="trades in the generated market")
    p.add_argument("--runs", type=int, default=3, help="runs per figure (the median is reported)")
    p.add_argument("--tickflow", default=str(pathlib.Path(__file__).resolve().parents[2] / "build/release/apps/tickflow/tickflow"))
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        subprocess.run([a.tickflow, "generate", "--out", tmp / "csv", "--symbols", "1", "--trades", str(a.rows)],
                       check=True, capture_output=True, timeout=3600)
        subprocess.run([a.tickflow, "import", tmp / "csv", "--db", tmp / "s.db"], check=True, capture_output=True,
                       timeout=3600)
        store = tickflow.Store(tmp / "s.db")
        symbol = store.symbols()["symbol"].iloc[0]
        csv_file = next((tmp / "csv").glob("*.csv"))

        (rows, _, _), scan_s = timed(lambda: store._store._scan([symbol]), a.runs)
        # Every column buffer fresh from the kernel (the buffer cache off), as on a first query.
        limit = tickflow.buffer_cache()[1]
        tickflow.set_buffer_cache(0)
        _, cold_s = timed(lambda: store.trades(symbol), a.runs)
        tickflow.set_buffer_cache(limit)
        _, numpy_s = timed(lambda: store.trades(symbol, as_numpy=True), a.runs)
        _, frame_s = timed(lambda: store.trades(symbol), a.runs)
        _, csv_s = timed(lambda: pd.read_csv(csv_file, header=None, names=["time", "price", "volume"]), 1)

        def csv_frame():  # the same result from the CSV: times as UTC datetimes
            f = pd.read_csv(csv_file, header=None, names=["time", "price", "volume"])
            f["time"] = pd.to_datetime(f["time"], unit="s", utc=True)
            return f

        _, csv_frame_s = timed(csv_frame, 1)
        print(f"trades: {rows:,} of {symbol}")
        print(f"  C++ store scan (baseline)      {rows / scan_s / 1e6:8.1f} M rows/s")
        print(f"  Store.trades(as_numpy=True)    {rows / numpy_s / 1e6:8.1f} M rows/s  {scan_s / numpy_s * 100:5.1f} % of the scan  "
              f"{csv_s / numpy_s:6.1f}x pandas.read_csv")
        print(f"  Store.trades() DataFrame       {rows / frame_s / 1e6:8.1f} M rows/s  {scan_s / frame_s * 100:5.1f} % of the scan  "
              f"{csv_s / frame_s:6.1f}x pandas.read_csv")
        print(f"  ... with fresh buffers only    {rows / cold_s / 1e6:8.1f} M rows/s  {scan_s / cold_s * 100:5.1f} % of the scan  "
              f"(tickflow.set_buffer_cache(0), as a first query)")
        print(f"  pandas.read_csv of the CSV     {rows / csv_s / 1e6:8.1f} M rows/s")
        print(f"  read_csv + to_datetime (same)  {rows / csv_frame_s / 1e6:8.1f} M rows/s   Store.trades() is "
              f"{csv_frame_s / frame_s:.1f}x this")

        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        n = sum(len(b[0]) for b in store.iter_trades(symbol, batch_rows=1_000_000, as_numpy=True))
        print(f"  iter_trades, 1 M-row batches: {n:,} rows, peak RSS growth "
              f"{(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024:.0f} MiB")

        first = store.symbols()["first"].iloc[0]
        year = dict(store=store, symbols=[symbol], resolution="1m", start=first, end=first + pd.Timedelta(days=365),
                    models=["conservative"])
        py, py_s = timed(lambda: tickflow.backtest(PerBar, **year), a.runs)
        _, cpp_s = timed(lambda: tickflow.backtest("sma-cross", **year), a.runs)
        bars = len(py.equity)
        print(f"backtest over a year of 1-minute bars ({bars:,} bars, {py.metrics['events'].iloc[0]:,} trades):")
        print(f"  Python per-bar strategy        {py_s:8.2f} s   built-in sma-cross {cpp_s:.2f} s   ratio {py_s / cpp_s:.1f}x")


if __name__ == "__main__":
    main()
