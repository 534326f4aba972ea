"""Source files are checked against their pins wherever they come from, and the build cache follows their content."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import spectrum_suite
from spectrum_suite import build_record, hub
from spectrum_suite.fetch import ChecksumMismatch, DataDirError, resolve_data_dir

ESOL = "chemistry/paper/dataset/data/esol_iupac.csv"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def truncated_esol(shared_data: Path, tmp_path: Path) -> Path:
    """A data directory whose esol_iupac.csv lost its second half, as a broken download or copy would."""
    target = tmp_path / "data" / ESOL
    target.parent.mkdir(parents=True)
    lines = (shared_data / ESOL).read_text().splitlines(keepends=True)
    target.write_text("".join(lines[: len(lines) // 2]))
    return tmp_path / "data"


def test_a_truncated_local_file_is_refused_naming_file_and_hashes(truncated_esol: Path) -> None:
    task = spectrum_suite.get_task("chemistry_esol")
    (pinned,) = [f for f in task.files.files if f.path == ESOL]
    with pytest.raises(ChecksumMismatch) as info:
        spectrum_suite.load_dataset("chemistry_esol", data_dir=truncated_esol)
    message = str(info.value)
    assert str(truncated_esol / ESOL) in message and pinned.sha256 in message
    assert "verify_checksums=False" in message


def test_checksums_can_be_skipped_and_the_build_and_card_say_so(
    truncated_esol: Path, shared_data: Path, tmp_path: Path
) -> None:
    ds = spectrum_suite.load_dataset("chemistry_esol", data_dir=truncated_esol, verify_checksums=False)
    record = build_record(ds)
    assert record["verify_checksums"] is False
    assert "differs from the pinned" in record["unverified"]["chemistry_esol"][ESOL]
    full = spectrum_suite.load_dataset("chemistry_esol", data_dir=shared_data)
    assert ds["test"].num_rows < full["test"].num_rows
    out = hub.export(tmp_path / "out", ["chemistry_esol"], data_dir=truncated_esol, verify_checksums=False)
    card = out / "README.md"
    assert ESOL in card.read_text() and "differs from the pinned" in card.read_text()


def test_an_edited_source_file_is_never_served_from_the_cache(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "imdb", data / "imdb")
    first = spectrum_suite.load_dataset("imdb", split="train", data_dir=data)
    path = data / "imdb" / "plain_text" / "train-00000-of-00001.parquet"
    table = pq.read_table(path)
    texts = [t.upper() for t in table.column("text").to_pylist()]
    pq.write_table(table.set_column(0, "text", [texts]), path)
    second = spectrum_suite.load_dataset("imdb", split="train", data_dir=data)
    assert first.num_rows == second.num_rows
    inputs = {m["content"] for row in second["messages"] for m in row if m["role"] == "input"}
    assert inputs and all(text == text.upper() for text in inputs)  # the edit is in, not the cached build


def test_a_data_directory_that_does_not_exist_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(DataDirError, match=f"{tmp_path / 'nowhere'} \\(data_dir\\) does not exist"):
        spectrum_suite.load_dataset("imdb", data_dir=tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("SPECTRUM_SUITE_DATA", str(tmp_path / "file"))
    with pytest.raises(DataDirError, match=r"\$SPECTRUM_SUITE_DATA\) is not a folder"):
        resolve_data_dir(None)
