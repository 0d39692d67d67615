"""replay: in process on a store and over a real nats-server to a `tickflow gateway` process."""

import socket
import subprocess
import time

import pandas as pd
import pytest

import tickflow
from conftest import SOURCE_DIR, run


def test_inproc_replay_gives_exactly_the_stored_trades(generated_store):
    store = tickflow.Store(generated_store)
    names = store.symbols()["symbol"].tolist()[:2]
    stream = tickflow.replay(names, store=store, start="2023-01-01", end="2023-03-01", batch_rows=7_000)
    frames = list(stream)
    got = pd.concat(frames, ignore_index=True)
    assert max(len(f) for f in frames) == 7_000
    assert got["sequence"].tolist() == list(range(1, len(got) + 1))
    expected = store.trades(names, start="2023-01-01", end="2023-03-01")
    pd.testing.assert_frame_equal(got.drop(columns="sequence"), expected, check_categorical=False)
    assert stream.end["reason"] == "completed" and stream.end["sent"] == len(got)


def test_inproc_bar_replay_matches_the_store_bars(sample_store):
    got = pd.concat(tickflow.replay("XBTUSD", store=sample_store, resolution="15m"), ignore_index=True)
    bars = tickflow.Store(sample_store).bars("XBTUSD", "15m")
    for c in ("time", "open", "high", "low", "close", "trades"):
        assert got[c].tolist() == bars[c].tolist(), c


def test_replay_arguments_are_checked(sample_store):
    with pytest.raises(ValueError, match="bus 'tcp://x'"):
        tickflow.replay("XBTUSD", store=sample_store, bus="tcp://x")
    with pytest.raises(ValueError, match="speed"):
        tickflow.replay("XBTUSD", store=sample_store, speed=-1)
    with pytest.raises(LookupError, match="NOPE"):
        tickflow.replay("NOPE", store=sample_store)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def nats_gateway(tmp_path, tickflow_bin, generated_store):
    """nats-server (scripts/nats.sh) and a `tickflow gateway` on it, both stopped by their own PIDs."""
    port, http = free_port(), free_port()
    conf = tmp_path / "nats"
    r = run(tickflow_bin, "nats-config", "--dir", conf, "--clients", "1-2", "--port", port, "--http", http)
    assert r.returncode == 0, r.stderr
    nats_sh = ["bash", str(SOURCE_DIR / "scripts" / "nats.sh")]
    gateways = []
    try:
        # Output to a file, not a pipe: the server started in the background keeps its output open.
        with open(tmp_path / "nats-start.log", "w") as out:
            try:
                r = subprocess.run(nats_sh + ["start", str(conf)], stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail("timed out after 60 s waiting for nats-server to become healthy")
        assert r.returncode == 0, (tmp_path / "nats-start.log").read_text()
        url = f"nats://127.0.0.1:{port}"
        gateways = []

        def start_gateway():
            log_path = tmp_path / f"gateway-{len(gateways)}.log"
            with open(log_path, "w") as log:
                gw = subprocess.Popen([tickflow_bin, "gateway", "--bus", url, "--creds",
                                       str(conf / "creds" / "gateway.creds"), "--db", str(generated_store),
                                       "--metrics", "127.0.0.1:0", "--session-timeout-ms", "3000"],
                                      stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            gateways.append(gw)
            deadline = time.monotonic() + 60
            while "gateway serving" not in log_path.read_text():
                if time.monotonic() > deadline or gw.poll() is not None:
                    pytest.fail("the gateway did not start within 60 s: " + log_path.read_text())
                time.sleep(0.1)
            return gw

        start_gateway()
        yield url, conf / "creds", gateways, start_gateway
    finally:
        for gw in gateways:
            gw.kill()
            gw.wait(timeout=30)
        subprocess.run(nats_sh + ["stop", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL, timeout=60)


def test_replay_over_nats_gives_exactly_the_stored_trades(nats_gateway, generated_store):
    url, creds, _, _ = nats_gateway
    store = tickflow.Store(generated_store)
    names = store.symbols()["symbol"].tolist()[:2]
    stream = tickflow.replay(names, store=store, bus=url, creds=creds / "client-1.creds", start="2023-01-01",
                             end="2023-02-01", timeout=60)
    got = pd.concat(list(stream), ignore_index=True)
    expected = store.trades(names, start="2023-01-01", end="2023-02-01")
    assert len(got) == len(expected) > 0
    pd.testing.assert_frame_equal(got.drop(columns="sequence"), expected, check_categorical=False)
    assert stream.end["reason"] == "completed"


def test_replay_over_nats_with_another_clients_identity_is_refused(nats_gateway, generated_store):
    url, creds, _, _ = nats_gateway
    with pytest.raises(Exception, match="not permitted|permission|denied|Permission"):
        list(tickflow.replay("XBTUSD", store=generated_store, bus=url, creds=creds / "client-2.creds", client_id=1,
                             timeout=20))


def test_a_replay_cut_by_a_gateway_kill_resumes_with_nothing_missing_or_doubled(nats_gateway, generated_store):
    url, creds, gateways, start_gateway = nats_gateway
    store = tickflow.Store(generated_store)
    names = store.symbols()["symbol"].tolist()[:2]
    expected = store.trades(names, start="2023-01-01", end="2023-07-01")
    # Paced so that the stream is still running when its gateway dies.
    stream = tickflow.replay(names, store=store, bus=url, creds=creds / "client-1.creds", start="2023-01-01",
                             end="2023-07-01", speed=2_000_000, batch_rows=5_000, timeout=60, retries=10)
    frames = []
    for frame in stream:
        frames.append(frame)
        if len(frames) == 2:
            gateways[-1].kill()
            gateways[-1].wait(timeout=30)
            start_gateway()
    got = pd.concat(frames, ignore_index=True)
    assert stream.end["resumed"] >= 1, stream.end
    assert got["sequence"].tolist() == list(range(1, len(expected) + 1))
    pd.testing.assert_frame_equal(got.drop(columns="sequence"), expected, check_categorical=False)
