"""The examples in examples/python run as written, and the notebook executes headless."""

import sys

from conftest import SOURCE_DIR, python_env, run


def test_the_research_session_example_runs(generated_store):
    r = run(sys.executable, SOURCE_DIR / "examples" / "python" / "research_session.py", generated_store, "XBTUSD",
            timeout=600, env=python_env())
    assert r.returncode == 0, r.stderr
    assert "probability of backtest overfitting" in r.stdout and "deflated Sharpe ratio" in r.stdout


def test_the_notebook_executes_headless(generated_store, tmp_path):
    env = python_env(TICKFLOW_STORE=str(generated_store))
    r = run(sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
            "--ExecutePreprocessor.timeout=600", "--output-dir", tmp_path, "--output", "executed.ipynb",
            SOURCE_DIR / "examples" / "python" / "research.ipynb", env=env, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "PBO" in (tmp_path / "executed.ipynb").read_text()
