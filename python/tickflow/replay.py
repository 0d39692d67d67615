"""Replay through the gateway: the stream a live client would receive, as batches."""

from . import _tickflow
from ._time import to_ns
from .store import Store, _bar_frame, _trade_frame


class _Replay:
    def __init__(self, native, kind):
        self._native, self._kind = native, kind

    def __iter__(self):
        for cols in self._native:
            yield _trade_frame(cols, False) if self._kind == "trades" else _bar_frame(cols)

    @property
    def end(self):
        """How the stream ended: reason, sent (by the gateway), received (in order), resumed (times)."""
        return self._native.end


def replay(symbols, *, store=None, bus="inproc", creds=None, client_id=None, speed=None, start=None, end=None,
           resolution=None, batch_rows=100_000, timeout=60.0, retries=5):
    """Replays trades (or bars with resolution="1m", "1h", ...) of `symbols` through a gateway, as an iterator of
    DataFrames (a `sequence` column first). bus="inproc" starts a gateway in this process on `store`;
    bus="nats://HOST:PORT" talks to a running `tickflow gateway` with `creds` (a file from
    `tickflow nats-config`), `store` then only resolves the symbol names. speed: None = as fast as possible,
    1.0 = real time, 600 = 600x. A stream cut short (gateway restart) is resumed after the last sequence
    received, up to `retries` times, with nothing missing or doubled; a gateway silent for `timeout` seconds
    is an error that says so."""
    if isinstance(symbols, str):
        symbols = [symbols]
    location = store.location if isinstance(store, Store) else (str(store) if store is not None else "")
    native = _tickflow._Replay(list(symbols), bus, location, str(creds) if creds else "", client_id, speed, to_ns(start, "start"),
                               to_ns(end, "end"), resolution or "", batch_rows, timeout, retries)
    return _Replay(native, "trades" if not resolution else "bars")
