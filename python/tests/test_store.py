"""Store: exact columns against the CSV text, merged order, numpy, bounded batches, bars, bad input."""

import csv
import decimal
import resource

import numpy as np
import pandas as pd
import pytest

import tickflow
from conftest import SAMPLE_DIR


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def ns_of(text):
    return int(decimal.Decimal(text) * 10**9)


def test_every_column_is_exact_against_the_csv_text(sample_store):
    rows = csv_rows(SAMPLE_DIR / "XBTUSD.csv")
    t = tickflow.Store(sample_store).trades("XBTUSD", decimals=True)
    assert len(t) == len(rows) == 2672
    assert str(t["time"].dtype) == "datetime64[ns, UTC]"
    assert t["time"].astype("int64").tolist() == [ns_of(r[0]) for r in rows]
    # float64: the double nearest to the text, as float() parses it
    assert t["price"].tolist() == [float(r[1]) for r in rows]
    assert t["volume"].tolist() == [float(r[2]) for r in rows]
    # exact: mantissa * 10**-scale reproduces the text byte for byte
    assert [format(d, "f") for d in tickflow.to_decimal(t["price_mantissa"], t["price_scale"])] == [r[1] for r in rows]
    assert [format(d, "f") for d in t["volume_exact"]] == [r[2] for r in rows]
    assert (t["symbol"] == "XBTUSD").all()


def test_several_symbols_are_merged_in_time_order_keeping_the_given_order_on_ties(generated_store, generated_dir):
    store = tickflow.Store(generated_store)
    names = store.symbols()["symbol"].tolist()
    assert len(names) == 3
    merged = store.trades(names[::-1], start="2023-01-01", end="2023-04-01")
    assert list(merged["symbol"].cat.categories) == names[::-1]
    parts = [store.trades(n, start="2023-01-01", end="2023-04-01") for n in names[::-1]]
    expected = pd.concat(parts, ignore_index=True).sort_values("time", kind="stable", ignore_index=True)
    assert len(merged) == sum(len(p) for p in parts) > 1000
    pd.testing.assert_frame_equal(merged.astype({"symbol": str}), expected.astype({"symbol": str}))
    assert merged["time"].is_monotonic_increasing


def test_globs_name_the_symbols_they_match(generated_store):
    store = tickflow.Store(generated_store)
    names = store.symbols()["symbol"].tolist()  # in id order
    every = store.trades("*", start="2023-01-01", end="2023-02-01")
    assert list(every["symbol"].cat.categories) == names
    pd.testing.assert_frame_equal(every, store.trades(names, start="2023-01-01", end="2023-02-01"))
    usd = [n for n in names if n.endswith("USD")]
    assert usd and list(store.trades("*USD", end="2022-02-01")["symbol"].cat.categories) == usd
    with pytest.raises(LookupError, match=r"symbol pattern '\*XYZ' matches none of the 3 symbols"):
        store.trades("*XYZ")
    got = pd.concat(tickflow.replay("*", store=generated_store, start="2023-01-01", end="2023-02-01"), ignore_index=True)
    assert len(got) == len(every)


def test_as_numpy_gives_a_structured_array_and_the_symbol_names(sample_store):
    arr, names = tickflow.Store(sample_store).trades(["XBTUSD"], as_numpy=True)
    assert names == ["XBTUSD"]
    assert arr.dtype.names[:4] == ("time", "symbol", "price", "volume")
    assert arr.shape == (2672,)
    assert arr["price"][0] == 10749.4 and arr["volume"][0] == 0.004
    assert arr["time"][0] == np.datetime64(1561939203172000000, "ns")


def test_iter_trades_yields_the_same_trades_in_bounded_batches(generated_store):
    store = tickflow.Store(generated_store)
    names = store.symbols()["symbol"].tolist()
    whole = store.trades(names)
    sizes, parts = [], []
    for batch in store.iter_trades(names, batch_rows=25_000):
        sizes.append(len(batch))
        parts.append(batch)
    assert max(sizes) == 25_000 and sum(sizes) == len(whole)
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole, check_categorical=False)


def test_iterating_keeps_memory_flat(generated_store):
    store = tickflow.Store(generated_store)
    names = store.symbols()["symbol"].tolist()
    total = int(store.symbols()["trades"].sum())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    rows = 0
    for batch in store.iter_trades(names, batch_rows=10_000, as_numpy=True):
        rows += len(batch[0])
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert rows == total
    held_mib = total * 44 / 2**20  # what holding every trade as columns would take
    assert grown_mib < held_mib / 2, f"peak RSS grew {grown_mib:.0f} MiB iterating {total} trades ({held_mib:.0f} MiB held)"


def test_bars_are_exact_aggregates_of_the_trades(sample_store):
    rows = csv_rows(SAMPLE_DIR / "XBTUSD.csv")
    frame = pd.DataFrame({"time": pd.to_datetime([ns_of(r[0]) for r in rows], utc=True),
                          "price": [decimal.Decimal(r[1]) for r in rows],
                          "volume": [decimal.Decimal(r[2]) for r in rows]})
    frame["bucket"] = frame["time"].dt.floor("1h")
    bars = tickflow.Store(sample_store).bars("XBTUSD", "1h", decimals=True)
    groups = list(frame.groupby("bucket", sort=True))
    assert len(bars) == len(groups) > 0
    for (bucket, g), (_, b) in zip(groups, bars.iterrows()):
        assert b["time"] == bucket
        assert b["open_exact"] == g["price"].iloc[0] and b["close_exact"] == g["price"].iloc[-1]
        assert b["high_exact"] == max(g["price"]) and b["low_exact"] == min(g["price"])
        assert b["volume_exact"] == sum(g["volume"]) and b["trades"] == len(g)


def test_symbols_lists_each_market(sample_store):
    s = tickflow.Store(sample_store).symbols()
    row = s.set_index("symbol").loc["XBTUSD"]
    assert row["base"] == "XBT" and row["quote"] == "USD" and row["trades"] == 2672
    assert row["first"] == pd.Timestamp("2019-07-01 00:00:03.172", tz="UTC")


def test_ranges_accept_text_timestamps_datetimes_and_nanoseconds(sample_store):
    store = tickflow.Store(sample_store)
    a = store.trades("XBTUSD", start="2019-07-01T00:10:00Z", end="2019-07-01T00:20:00Z")
    b = store.trades("XBTUSD", start=pd.Timestamp("2019-07-01 00:10", tz="UTC"), end=pd.Timestamp("2019-07-01 00:20"))
    c = store.trades("XBTUSD", start=a["time"].iloc[0].value, end=pd.Timestamp("2019-07-01 00:20", tz="UTC").value)
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)


def test_bad_input_raises_errors_that_name_the_problem(sample_store, tmp_path):
    with pytest.raises(LookupError, match="no store at .*nonexistent.db"):
        tickflow.Store(tmp_path / "nonexistent.db")
    with pytest.raises(tickflow.Error, match="unreachable|connect|refused|127.0.0.1:1"):
        tickflow.Store("clickhouse://127.0.0.1:1/nothing")
    store = tickflow.Store(sample_store)
    with pytest.raises(LookupError, match="NOPE"):
        store.trades("NOPE")
    with pytest.raises(ValueError, match="resolution '7x'"):
        store.bars("XBTUSD", "7x")
    with pytest.raises(ValueError, match="must be before end"):
        store.trades("XBTUSD", start="2020-01-01", end="2019-01-01")
    with pytest.raises(ValueError, match="start '3000-13-01'"):
        store.trades("XBTUSD", start="3000-13-01")
    with pytest.raises(ValueError, match="outside"):
        store.trades("XBTUSD", start=10**30)
    with pytest.raises(ValueError, match="given twice"):
        store.trades(["XBTUSD", "XBTUSD"])
    with pytest.raises(TypeError, match="symbols"):
        store.trades([1, 2])


def test_numpy_records_are_the_same_from_trades_and_from_iter_trades(generated_store):
    store = tickflow.Store(generated_store)
    names = store.symbols()["symbol"].tolist()
    whole, whole_names = store.trades(names, start="2023-01-01", end="2023-02-01", as_numpy=True)
    parts = list(store.iter_trades(names, start="2023-01-01", end="2023-02-01", batch_rows=3_000, as_numpy=True))
    assert whole.dtype == tickflow.store.TRADE_DTYPE == parts[0][0].dtype
    assert parts[0][1] == whole_names
    assert np.array_equal(np.concatenate([p[0] for p in parts]), whole)


def test_bars_of_several_symbols_are_merged_with_a_symbol_column(generated_store):
    store = tickflow.Store(generated_store)
    names = store.symbols()["symbol"].tolist()[:2]
    merged = store.bars(names, "1d", start="2023-01-01", end="2023-03-01")
    assert list(merged["symbol"].cat.categories) == names
    assert merged["time"].is_monotonic_increasing
    for n in names:
        alone = store.bars(n, "1d", start="2023-01-01", end="2023-03-01")
        assert "symbol" not in alone
        part = merged[merged["symbol"] == n].drop(columns="symbol").reset_index(drop=True)
        pd.testing.assert_frame_equal(part, alone)


def test_reused_column_buffers_give_the_same_results_and_the_cache_is_bounded(generated_store):
    store = tickflow.Store(generated_store)
    names = store.symbols()["symbol"].tolist()
    first = store.symbols()["first"].min()
    limit = tickflow.buffer_cache()[1]
    try:
        tickflow.set_buffer_cache(0)
        assert tickflow.buffer_cache() == (0, 0)
        fresh_all = store.trades(names)
        fresh_part = store.trades(names[0], start=first + pd.Timedelta(days=30))
        tickflow.set_buffer_cache(1 << 30)
        # Big columns released by numpy are kept, then reused by the next queries (stale contents overwritten).
        for _ in range(3):
            again = store.trades(names)
            pd.testing.assert_frame_equal(again, fresh_all)
            del again
            assert tickflow.buffer_cache()[0] > 0, "released big columns were not kept"
            part = store.trades(names[0], start=first + pd.Timedelta(days=30))
            pd.testing.assert_frame_equal(part, fresh_part)
            del part
        tickflow.set_buffer_cache(8 << 20)  # shrinking gives the rest back at once
        assert tickflow.buffer_cache()[0] <= 8 << 20
    finally:
        tickflow.set_buffer_cache(limit)
