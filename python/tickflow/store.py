"""The tick store as pandas: symbols, trades, bars, batches of bounded size, and imports."""

import decimal
import re
import sys

import numpy as np
import pandas as pd

from . import _tickflow
from ._time import to_ns, utc


class BadRowError(_tickflow.Error):
    """A row of an imported file that the importer refused: file, line, column, row text."""

    def __init__(self, message, file, line, column, text, report):
        super().__init__(message)
        self.file, self.line, self.column, self.text, self.report = file, line, column, text, report


def to_decimal(mantissa, scale):
    """decimal.Decimal values of mantissa/scale columns (exact)."""
    return [decimal.Decimal(int(m)).scaleb(-int(s)) for m, s in zip(mantissa, scale)]


def _symbols_arg(symbols):
    return [symbols] if isinstance(symbols, str) else list(symbols)


def _trade_frame(cols, decimals):
    names = cols.pop("symbols")
    codes = cols.pop("symbol")
    sequence = cols.pop("sequence", None)
    frame = pd.DataFrame({
        "time": utc(cols["time"]),
        "symbol": pd.Categorical.from_codes(codes, categories=names),
        "price": cols["price"],
        "volume": cols["volume"],
        "price_mantissa": cols["price_mantissa"],
        "price_scale": cols["price_scale"],
        "volume_mantissa": cols["volume_mantissa"],
        "volume_scale": cols["volume_scale"],
    }, copy=False)
    if sequence is not None:
        frame.insert(0, "sequence", sequence)
    if decimals:
        frame["price_exact"] = to_decimal(cols["price_mantissa"], cols["price_scale"])
        frame["volume_exact"] = to_decimal(cols["volume_mantissa"], cols["volume_scale"])
    return frame


# The records of trades(as_numpy=True) and iter_trades(as_numpy=True), as the C++ core writes them
# (aligned fields, 48 bytes).
TRADE_DTYPE = np.dtype({
    "names": ["time", "symbol", "price", "volume", "price_mantissa", "price_scale", "volume_mantissa", "volume_scale"],
    "formats": ["M8[ns]", "i2", "f8", "f8", "i8", "u1", "i8", "u1"],
    "offsets": [0, 40, 8, 16, 24, 42, 32, 43],
    "itemsize": 48,
})


def _bar_frame(cols):
    frame = pd.DataFrame({k: v for k, v in cols.items() if k not in ("symbols", "symbol", "time")}, copy=False)
    frame.insert(0, "time", utc(cols["time"]))
    if "symbol" in cols:
        frame.insert(1, "symbol", pd.Categorical.from_codes(cols["symbol"], categories=cols["symbols"]))
    if "sequence" in cols:
        frame.insert(0, "sequence", frame.pop("sequence"))
    return frame


class Store:
    """A tickflow store: a SQLite file path or a clickhouse://HOST:PORT/DATABASE URL, opened read-only.

    Errors: a missing file or an unreachable server raises tickflow.Error; unknown symbols LookupError;
    bad arguments ValueError. A Store may be used from several threads (one call at a time runs)."""

    def __init__(self, location):
        self.location = str(location)
        self._store = _tickflow._Store(self.location)

    def __repr__(self):
        return f"tickflow.Store({self.location!r})"

    def symbols(self):
        """One row per market: id, symbol, base, quote, first, last (UTC), trades, price_scale, volume_scale."""
        cols = self._store.symbols()
        frame = pd.DataFrame(cols)
        frame["first"] = utc(frame["first"])
        frame["last"] = utc(frame["last"])
        return frame

    def trades(self, symbols, start=None, end=None, *, as_numpy=False, decimals=False):
        """Trades of one symbol or several merged in time order (ties keep the order given), in [start, end).

        Columns: time (datetime64[ns, UTC]), symbol (categorical), price and volume (float64, the nearest double
        to the stored decimal), price_mantissa/price_scale and volume_mantissa/volume_scale (exact:
        value = mantissa * 10**-scale), and with decimals=True price_exact/volume_exact (decimal.Decimal).
        as_numpy=True returns (structured array, symbol names) instead, the symbol field indexing the names."""
        if as_numpy:  # records written by C++ directly, without columns in between
            out = self._store.trade_records(_symbols_arg(symbols), to_ns(start, "start"), to_ns(end, "end"))
            return out["records"], out["symbols"]
        return _trade_frame(self._store.trades(_symbols_arg(symbols), to_ns(start, "start"), to_ns(end, "end")), decimals)

    def iter_trades(self, symbols, start=None, end=None, *, batch_rows=1_000_000, as_numpy=False, decimals=False):
        """The same trades as trades(), in batches of at most batch_rows: memory stays one batch whatever the range."""
        batches = self._store.iter_trades(_symbols_arg(symbols), to_ns(start, "start"), to_ns(end, "end"), batch_rows,
                                          as_numpy)
        for out in batches:
            yield (out["records"], out["symbols"]) if as_numpy else _trade_frame(out, decimals)

    def bars(self, symbols, resolution, start=None, end=None, *, decimals=False):
        """OHLCV bars at a resolution (1m 5m 15m 30m 1h 4h 1d 1w 1M ...), bucket starts in [start, end), of one
        symbol (a str) or of several merged in time order (a list: with a categorical `symbol` column; equal
        times keep the order given).

        Aggregated exactly from the stored 1-minute bars; open/high/low/close/volume as float64 and, with
        decimals=True, *_exact columns of decimal.Decimal."""
        cols = self._store.bars(symbols, resolution, to_ns(start, "start"), to_ns(end, "end"), decimals)
        return _bar_frame(cols)


_ROW_ERROR = re.compile(r"^(?P<file>.*):(?P<line>\d+):(?P<column>\d+): (?P<message>.*?)\n\s+\d+ \| (?P<text>.*)$", re.S)


def _print_progress(files_done, files_total, bytes_done, bytes_total, rows, seconds, current):
    share = 100.0 * bytes_done / bytes_total if bytes_total else 100.0
    rate = rows / seconds / 1e6 if seconds > 0 else 0.0
    print(f"\rimport: {files_done}/{files_total} files, {share:5.1f} %, {rows:,} rows ({rate:.1f} M/s) {current[:40]:<40}",
          end="", file=sys.stderr, flush=True)


def import_data(path, store, skip_bad_rows=False, progress=True):
    """Imports a folder of Kraken SYMBOL.csv files or a Kraken zip into `store` (a path or clickhouse:// URL;
    a missing SQLite file is created), one transaction per file (docs/import.md).

    Returns the per-file report as a DataFrame (path, symbol, outcome, rows_imported, ...). A bad row stops the
    import (files before it stay imported) and raises BadRowError with file, line, column and the row's text;
    with skip_bad_rows=True bad rows are skipped and counted. progress: True prints a progress line to stderr,
    a callable receives (files_done, files_total, bytes_done, bytes_total, rows, seconds, current_file)."""
    location = store.location if isinstance(store, Store) else str(store)
    callback = _print_progress if progress is True else (progress or None)
    summary = _tickflow._import_data(str(path), location, skip_bad_rows, callback)
    if progress is True:
        print(file=sys.stderr)
    report = pd.DataFrame(summary["files"], columns=[
        "path", "symbol", "outcome", "bytes", "rows_imported", "rows_already_stored", "rows_bad", "blank_lines",
        "resumed_at_byte", "errors", "failed_at_bad_row", "note"])
    report.attrs["summary"] = {k: v for k, v in summary.items() if k != "files"}
    for f in summary["files"]:
        if f["failed_at_bad_row"] and f["errors"]:
            first = f["errors"][0]
            m = _ROW_ERROR.match(first)
            if m:
                raise BadRowError(first, m["file"], int(m["line"]), int(m["column"]), m["text"], report)
            raise BadRowError(first, f["path"], 0, 0, "", report)
    failed = [f for f in summary["files"] if f["outcome"] == "FAILED"]
    if failed:
        raise _tickflow.Error(f"{failed[0]['path']}: {'; '.join(failed[0]['errors']) or failed[0]['note']}")
    return report
