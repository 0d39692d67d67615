"""import_data: the per-file report, bad rows with file/line/column/text, nothing good lost."""

import shutil

import pytest

import tickflow
from conftest import SAMPLE_DIR


def test_the_report_says_what_each_file_gave(tmp_path):
    seen = []
    report = tickflow.import_data(SAMPLE_DIR, tmp_path / "s.db", progress=lambda *a: seen.append(a))
    assert report[["symbol", "outcome", "rows_imported"]].values.tolist() == [["XBTUSD", "new", 2672]]
    assert seen and seen[-1][0] == seen[-1][1] == 1  # files done == files total at the end
    again = tickflow.import_data(SAMPLE_DIR, tmp_path / "s.db", progress=False)
    assert again["outcome"].tolist() == ["unchanged"]


def test_a_bad_row_raises_with_file_line_column_and_text_and_keeps_earlier_files(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLE_DIR / "XBTUSD.csv", src / "AAAUSD.csv")  # imported first (name order)
    lines = (SAMPLE_DIR / "XBTUSD.csv").read_text().splitlines()
    lines[9] = "1561939300.000,abc,0.5"
    (src / "XBTUSD.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(tickflow.BadRowError) as e:
        tickflow.import_data(src, tmp_path / "s.db", progress=False)
    err = e.value
    assert err.file.endswith("XBTUSD.csv") and err.line == 10 and err.column == 16
    assert err.text == "1561939300.000,abc,0.5"
    assert "invalid price" in str(err)
    store = tickflow.Store(tmp_path / "s.db")
    assert store.symbols()["symbol"].tolist() == ["AAAUSD"]  # the good file stayed, the bad one left nothing
    report = tickflow.import_data(src, tmp_path / "s.db", skip_bad_rows=True, progress=False)
    row = report.set_index("symbol").loc["XBTUSD"]
    assert row["rows_bad"] == 1 and row["rows_imported"] == 2671


def test_a_missing_path_is_an_error_naming_it(tmp_path):
    with pytest.raises(LookupError, match="nowhere"):
        tickflow.import_data(tmp_path / "nowhere", tmp_path / "s.db", progress=False)
