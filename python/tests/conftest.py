"""Fixtures: stores built by the project's own importer from the Kraken sample and from `tickflow generate`."""

import os
import pathlib
import shutil
import subprocess

import pytest

import tickflow

SOURCE_DIR = pathlib.Path(os.environ.get("TICKFLOW_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
TICKFLOW_BIN = os.environ.get("TICKFLOW_BIN") or shutil.which("tickflow")
SAMPLE_DIR = SOURCE_DIR / "tests" / "data" / "kraken"

# A sanitizer build runs this interpreter with the sanitizer runtimes preloaded (python/CMakeLists.txt);
# only Python children need them (python_env), other programs (curl, nats-server) must not get them.
PRELOAD = os.environ.pop("LD_PRELOAD", None)


def python_env(**extra):
    """The environment of a Python child process that imports tickflow."""
    env = dict(os.environ, **extra)
    if PRELOAD:
        env["LD_PRELOAD"] = PRELOAD
    return env


def run(*args, timeout=300, **kw):
    """Runs a command with a bounded wait; a timeout says what it waited for."""
    try:
        return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        pytest.fail(f"timed out after {timeout} s waiting for {' '.join(map(str, args))}")


@pytest.fixture(scope="session")
def tickflow_bin():
    if not TICKFLOW_BIN:
        pytest.fail("TICKFLOW_BIN is not set and tickflow is not on PATH")
    return TICKFLOW_BIN


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory):
    """The real Kraken BTC/USD sample (2,672 trades) imported through tickflow.import_data."""
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    tickflow.import_data(SAMPLE_DIR, path, progress=False)
    return path


@pytest.fixture(scope="session")
def generated_dir(tmp_path_factory, tickflow_bin):
    out = tmp_path_factory.mktemp("generated") / "csv"
    r = run(tickflow_bin, "generate", "--out", out, "--symbols", "3", "--trades", "400000")
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="session")
def generated_store(tmp_path_factory, generated_dir, tickflow_bin):
    """Three generated markets (XBTUSD, ETHUSD, ...) imported by `tickflow import`."""
    path = tmp_path_factory.mktemp("gstore") / "gen.db"
    r = run(tickflow_bin, "import", generated_dir, "--db", path)
    assert r.returncode == 0, r.stderr
    return path
