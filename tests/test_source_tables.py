"""The shared readers and value checks of the source adapters: an empty, header-only, binary or non-UTF-8 file
fails with the file named (never a pandas traceback or an empty table), and a value that a source can never
hold (NaN, inf, text for a number, an all-zero distribution) fails with the file, the row and the field."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spectrum_suite.sourcekit.tables import read_csv, read_json, read_jsonl, read_jsonl_gz, read_parquet
from spectrum_suite.sourcekit.values import check_column, distribution, is_number, null, number, text
from spectrum_suite.task import SourceFormatError

BINARY = bytes(range(256)) * 4  # NUL bytes and invalid UTF-8
TRUNCATED_GZIP = gzip.compress(b"".join(b'{"a": %d}\n' % i for i in range(2000)))[:500]
LATIN1 = "name,count\nJosé,3\n".encode("latin-1")  # not UTF-8, no NUL byte


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def consume(reader, *args):
    result = reader(*args)
    return list(result) if not isinstance(result, pd.DataFrame) else result


@pytest.mark.parametrize(
    ("reader", "args"),
    [
        (read_csv, (["a"],)),
        (read_json, ()),
        (read_jsonl, ()),
    ],
)
@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "file is empty"),
        (b"\n  \n", "file is empty"),
        (BINARY, "not readable text"),
        (LATIN1, "not readable text"),
    ],
    ids=["empty", "blank", "binary", "latin-1"],
)
def test_text_readers_name_an_empty_binary_or_non_utf8_file(tmp_path, reader, args, content, problem):
    path = write(tmp_path, "data.txt", content)
    with pytest.raises(SourceFormatError, match=rf"data\.txt: whole file: field '\*': {problem}"):
        consume(reader, path, *args)


def test_a_header_only_csv_has_no_data_rows(tmp_path):
    path = write(tmp_path, "table.csv", b"a,b\n")
    with pytest.raises(SourceFormatError, match=r"table\.csv: whole file: field '\*': no data rows"):
        read_csv(path, ["a"])
    assert read_csv(write(tmp_path, "ok.csv", b"a,b\n1,2\n"), ["a"]).to_dict("records") == [{"a": 1, "b": 2}]


def test_json_lines_without_a_record_are_an_error(tmp_path):
    path = write(tmp_path, "rows.jsonl", b"\n\n   \n\n")
    with pytest.raises(SourceFormatError, match=r"rows\.jsonl: whole file: field '\*': file is empty"):
        list(read_jsonl(path))
    gz = write(tmp_path, "rows.jsonl.gz", gzip.compress(b"\n\n"))
    with pytest.raises(SourceFormatError, match=r"rows\.jsonl\.gz: whole file: field '\*': file is empty"):
        list(read_jsonl_gz(gz))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "file is empty"),
        (gzip.compress(b""), "file is empty"),
        (b"plain text, not gzip", "not a readable gzip file"),
        (gzip.compress(BINARY), "not readable text"),
        (gzip.compress(LATIN1), "not readable text"),
        (TRUNCATED_GZIP, "not a readable gzip file"),
    ],
    ids=["empty", "empty-gzip", "not-gzip", "binary", "latin-1", "truncated"],
)
def test_gzipped_json_lines_name_an_empty_broken_or_binary_file(tmp_path, content, problem):
    path = write(tmp_path, "rows.jsonl.gz", content)
    with pytest.raises(SourceFormatError, match=rf"rows\.jsonl\.gz: whole file: field '\*': {problem}"):
        list(read_jsonl_gz(path))


def test_parquet_empty_file_and_file_without_rows(tmp_path):
    empty = write(tmp_path, "empty.parquet", b"")
    with pytest.raises(SourceFormatError, match=r"empty\.parquet: whole file: field '\*': file is empty"):
        read_parquet(empty, ["a"])
    no_rows = tmp_path / "no_rows.parquet"
    pq.write_table(pa.table({"a": pa.array([], pa.string())}), no_rows)
    with pytest.raises(SourceFormatError, match=r"no_rows\.parquet: whole file: field '\*': no data rows"):
        read_parquet(no_rows, ["a"])
    binary = write(tmp_path, "binary.parquet", BINARY)
    with pytest.raises(
        SourceFormatError, match=r"binary\.parquet: whole file: field '\*': not a readable Parquet"
    ):
        read_parquet(binary, ["a"])


@pytest.mark.parametrize(
    ("value", "kwargs", "problem"),
    [
        (float("nan"), {}, "expected a finite number, got nan"),
        (float("inf"), {}, "expected a finite number, got inf"),
        (np.float64("nan"), {}, "expected a finite number, got nan"),
        ("often", {}, "expected a number, got 'often'"),
        ("3", {"strings": False}, "expected a number, got '3'"),
        (True, {}, "expected a number, got True"),
        (None, {}, "expected a number, got None"),
        (2.5, {"integer": True}, "expected an integer, got 2.5"),
        (-1, {"low": 0}, "expected a number in 0..inf, got -1"),
        (7, {"low": 0, "high": 5}, "expected a number in 0..5, got 7"),
    ],
)
def test_number_refuses_what_is_not_a_finite_number(value, kwargs, problem):
    with pytest.raises(SourceFormatError, match=rf"^f\.csv: row 3: field 'x': {problem}$"):
        number("f.csv", "row 3", "x", value, **kwargs)


def test_number_accepts_numbers_and_numeric_text():
    assert number("f", "r", "x", np.int64(3), integer=True) == 3
    assert number("f", "r", "x", " 4.0 ", integer=True, low=0) == 4
    assert number("f", "r", "x", 0.25, low=0, high=1) == 0.25


@pytest.mark.parametrize(
    ("weights", "problem"),
    [
        ([0, 0, 0], "all counts are zero"),
        ([1, -1, 2], "expected a number in 0"),
        ([1, float("nan")], "expected a finite number, got nan"),
        ([1, "x"], "expected a number, got 'x'"),
        ([], "all counts are zero"),
    ],
)
def test_a_distribution_is_finite_non_negative_and_not_all_zero(weights, problem):
    with pytest.raises(SourceFormatError, match=rf"f\.json: item 7: field 'counts': {problem}"):
        distribution("f.json", "item 7", "counts", weights)


def test_a_distribution_is_normalised():
    probs = distribution("f", "r", "x", [9, 6, 3, 2])
    assert probs == [9 / 20, 6 / 20, 3 / 20, 2 / 20]
    assert math.isclose(sum(probs), 1.0)


def test_text_refuses_missing_values_and_non_strings():
    for value in (None, float("nan"), 3, ["a"]):
        with pytest.raises(SourceFormatError, match=r"f: line 2: field 'q': expected text, got"):
            text("f", "line 2", "q", value)
    with pytest.raises(SourceFormatError, match="expected text, got an empty string"):
        text("f", "line 2", "q", "  ")
    assert text("f", "line 2", "q", "", empty=True) == ""
    assert null(None) and null(float("nan")) and null(pd.NA) and not null("") and not null(0)


def test_check_column_names_the_file_line_of_the_first_bad_value(tmp_path):
    frame = pd.DataFrame({"v": [1.0, 2.0, float("inf"), "x"]}, index=[0, 1, 5, 6])
    with pytest.raises(SourceFormatError, match=r"t\.csv: row 7: field 'v': expected a number, got inf"):
        check_column("t.csv", frame, "v", is_number, "a number")
