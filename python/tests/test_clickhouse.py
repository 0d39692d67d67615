"""The same Python calls on a ClickHouse store (a real clickhouse-server started by scripts/clickhouse.sh):
imports, trades, bars and backtests identical to the SQLite store's."""

import socket
import subprocess

import pandas as pd
import pytest

import tickflow
from conftest import SAMPLE_DIR, SOURCE_DIR, run


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def clickhouse_url(tmp_path_factory, tickflow_bin):
    work = tmp_path_factory.mktemp("clickhouse")
    script = ["bash", str(SOURCE_DIR / "scripts" / "clickhouse.sh")]
    http, tcp = free_port(), free_port()
    try:
        # Output to a file: the server started in the background keeps its output open.
        with open(work / "start.log", "w") as out:
            try:
                r = subprocess.run(script + ["start", str(work / "ch"), str(http), str(tcp)], stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=120)
            except subprocess.TimeoutExpired:
                pytest.fail("timed out after 120 s waiting for clickhouse-server to answer /ping")
        assert r.returncode == 0, (work / "start.log").read_text()
        url = f"clickhouse://127.0.0.1:{http}/python_test"
        r = run(tickflow_bin, "db", "init", "--db", url, timeout=120)
        assert r.returncode == 0, r.stderr
        yield url
    finally:
        subprocess.run(script + ["stop", str(work / "ch")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL, timeout=120)


def test_a_clickhouse_store_gives_what_the_sqlite_store_gives(clickhouse_url, sample_store):
    report = tickflow.import_data(SAMPLE_DIR, clickhouse_url, progress=False)
    assert report["rows_imported"].tolist() == [2672]
    ch, sq = tickflow.Store(clickhouse_url), tickflow.Store(sample_store)
    pd.testing.assert_frame_equal(ch.trades("XBTUSD", decimals=True), sq.trades("XBTUSD", decimals=True))
    pd.testing.assert_frame_equal(ch.bars("XBTUSD", "5m", decimals=True), sq.bars("XBTUSD", "5m", decimals=True))
    a = tickflow.backtest("sma-cross", store=ch, symbols=["XBTUSD"], resolution="1m", params={"fast": 3, "slow": 8})
    b = tickflow.backtest("sma-cross", store=sq, symbols=["XBTUSD"], resolution="1m", params={"fast": 3, "slow": 8})
    assert len(a.fills) > 0
    pd.testing.assert_frame_equal(a.fills, b.fills)
    assert a.fingerprint == b.fingerprint
