"""The download path end to end: a server on 127.0.0.1 plays the Hub and raw.githubusercontent.com with real bytes
(../shared/data) or fixtures in the real schema, and the real download code (huggingface_hub for Hub files, the
`datasets` download manager or urllib for the rest) fetches through it.

The Hub side answers as the Hub does for a plain (non-Xet) file: ``HEAD``/``GET
/datasets/{repo}/resolve/{revision}/{path}`` with ``X-Repo-Commit``, ``ETag`` and ``Content-Length``, the
``X-Error-Code`` of a missing revision or file or of a gated repository (401 without the token), and ``GET
/api/datasets/{repo}/tree/{revision}/{folder}`` for the shards of a Parquet export split. `huggingface_hub` is
pointed at it by ``HF_ENDPOINT``, the GitHub files by ``SPECTRUM_SUITE_GITHUB_RAW``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import constants as hub_constants

import spectrum_suite
from spectrum_suite import fetch
from spectrum_suite.builder import TasksUnavailableError
from spectrum_suite.fetch import ChecksumMismatch
from spectrum_suite.registry import get_task
from spectrum_suite.sources import chatbotarena, mpi, novacomet, nytimes, valueprism
from spectrum_suite.task import RemoteFile, SourceUnavailable
from tests.adapter_run import FIXTURES
from tests.adapter_run import rows as rows_from

TOKEN = "hf_local_test_token"


@dataclasses.dataclass
class Played:
    """What the server holds and what it was asked."""

    hub: dict[tuple[str, str, str], bytes] = dataclasses.field(default_factory=dict)  # (repo, revision, path)
    github: dict[str, bytes] = dataclasses.field(default_factory=dict)  # "owner/repo/commit/path"
    gated: set[str] = dataclasses.field(default_factory=set)
    listed: dict[tuple[str, str, str], list[str]] = dataclasses.field(default_factory=dict)  # tree overrides
    requests: list[tuple[str, str, str | None]] = dataclasses.field(
        default_factory=list
    )  # method, path, auth

    def commit(self, repo: str, revision: str) -> str:
        """The commit a revision resolves to: itself if it is one, else a stable stand-in for the branch."""
        if len(revision) == 40:
            return revision
        return hashlib.sha1(f"{repo}@{revision}".encode()).hexdigest()

    def tree(self, repo: str, revision: str, folder: str) -> list[dict]:
        names = self.listed.get((repo, revision, folder))
        if names is None:
            names = [
                p for (r, v, p) in self.hub if r == repo and v == revision and p.startswith(f"{folder}/")
            ]
        return [
            {"type": "file", "path": f"{folder}/{Path(n).name}", "oid": "0" * 40, "size": 1} for n in names
        ]


def _handler(played: Played) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)

        def _answer(self) -> None:
            path = unquote(urlsplit(self.path).path)
            played.requests.append((self.command, path, self.headers.get("Authorization")))
            parts = path.strip("/").split("/")
            if parts[:2] == ["api", "datasets"] and "tree" in parts:
                at = parts.index("tree")
                repo, revision = "/".join(parts[2:at]), unquote(parts[at + 1])
                folder = "/".join(parts[at + 2 :])
                if (rest := "/".join(parts[at + 1 :])).startswith("refs/convert/parquet"):
                    revision, folder = "refs/convert/parquet", rest[len("refs/convert/parquet/") :]
                return self._send(200, json.dumps(played.tree(repo, revision, folder)).encode())
            if parts[0] == "datasets" and "resolve" in parts:
                at = parts.index("resolve")
                repo, rest = "/".join(parts[1:at]), "/".join(parts[at + 1 :])
                revision, file = rest.split("/", 1)
                if rest.startswith("refs/convert/parquet/"):
                    revision, file = "refs/convert/parquet", rest[len("refs/convert/parquet/") :]
                return self._hub(repo, revision, file)
            body = played.github.get("/".join(parts))
            return self._send(200, body) if body is not None else self._send(404, b"404: Not Found")

        def _hub(self, repo: str, revision: str, file: str) -> None:
            if repo in played.gated and self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._send(401, b"gated", {"X-Error-Code": "GatedRepo"})
            if not any(r == repo and v == revision for r, v, _ in played.hub):
                return self._send(404, b"no revision", {"X-Error-Code": "RevisionNotFound"})
            body = played.hub.get((repo, revision, file))
            commit = {"X-Repo-Commit": played.commit(repo, revision)}
            if body is None:
                return self._send(404, b"no file", {"X-Error-Code": "EntryNotFound", **commit})
            etag = hashlib.sha256(body).hexdigest()
            self._send(200, body, {"ETag": f'"{etag}"', **commit})

        do_GET = do_HEAD = _answer

    return Handler


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Played, str]]:
    """The local Hub and GitHub, with downloads switched on and every cache private to the test."""
    played = Played()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(played))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    for name in fetch.OFFLINE_ENVS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(hub_constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", base)
    monkeypatch.setenv(fetch.GITHUB_RAW_ENV, base)
    monkeypatch.setenv(fetch.CACHE_ENV, str(tmp_path / "package-cache"))
    yield played, base
    httpd.shutdown()
    httpd.server_close()


def _github_key(url: str) -> str:
    return url.removeprefix(f"{fetch.GITHUB_RAW}/")


def _build(config: str, tmp_path: Path) -> datasets.Dataset:
    """A fresh build (its own datasets cache, so nothing an earlier build downloaded or built is reused)."""
    return spectrum_suite.load_dataset(config, split="test", cache_dir=str(tmp_path / "datasets"))


def _serve_nytimes(played: Played, shared_data: Path, cut: int = 0) -> RemoteFile:
    """The real NYTimes file at its pinned commit on the local GitHub, less its last ``cut`` bytes."""
    (file,) = nytimes.FILES.files
    payload = (shared_data / file.path).read_bytes()
    played.github[_github_key(file.url)] = payload[: len(payload) - cut]
    return file


@pytest.mark.shared
def test_a_github_file_downloads_at_its_commit_through_the_builder_and_passes_its_pin(
    server: tuple[Played, str], shared_data: Path, tmp_path: Path
) -> None:
    played, _ = server
    file = _serve_nytimes(played, shared_data)
    built = _build("nytimes", tmp_path)
    expected = rows_from("nytimes", shared_data)
    assert built.num_rows == len(expected) > 0
    assert sorted(built["instance_id"]) == sorted(r["instance_id"] for r in expected)
    assert {p for _, p, _ in played.requests} == {f"/{_github_key(file.url)}"}
    assert nytimes.COMMIT in file.url and file.sha256


@pytest.mark.shared
def test_bytes_that_are_not_the_pinned_ones_fail_naming_the_file(
    server: tuple[Played, str], shared_data: Path, tmp_path: Path
) -> None:
    file = _serve_nytimes(server[0], shared_data, cut=100)  # a truncated copy
    with pytest.raises(ChecksumMismatch, match=f"not the pinned {file.sha256} of {file.path}"):
        _build("nytimes", tmp_path)
    # without a builder, into the package cache: the bad payload is refused and never written
    with pytest.raises(ChecksumMismatch, match=file.path):
        fetch.fetch_file("nytimes", file)
    assert not list((tmp_path / "package-cache").rglob("*.json"))


def test_a_wrong_commit_fails_naming_the_file(server: tuple[Played, str], tmp_path: Path) -> None:
    """A pin the server does not know: Hub (a revision that is no commit of the repository) and GitHub (404)."""
    played, _ = server
    (mmlu,) = get_task("mmlu").files.files
    played.hub[(mmlu.hub.repo, mmlu.hub.revision, mmlu.hub.filename)] = (FIXTURES / mmlu.path).read_bytes()
    wrong = dataclasses.replace(mmlu, hub=dataclasses.replace(mmlu.hub, revision="0" * 40), sha256=None)
    with pytest.raises(SourceUnavailable, match=rf"needs the file '{mmlu.path}' .*RevisionNotFoundError"):
        fetch.fetch_file("mmlu", wrong)
    questions = mpi.FILES.files[0]
    moved = dataclasses.replace(questions, url=questions.url.replace(mpi.COMMIT, "1" * 40))
    with pytest.raises(SourceUnavailable, match=rf"needs the file '{questions.path}' .*404"):
        fetch.fetch_file("mpi", moved)


def test_a_host_out_of_reach_is_asked_once_per_process(
    server: tuple[Played, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a network every file of every task would wait out the client's retries; a host that refused the
    connection is not asked again, and the error says why. A host that answered (404) is asked again."""
    questions = mpi.FILES.files[0]
    first, second = (
        dataclasses.replace(
            questions,
            path=f"mpi/data/{name}.csv",
            url=questions.url.replace("mpi_questions", name),
            sha256=None,
        )
        for name in ("first", "second")
    )
    monkeypatch.setattr(fetch, "_UNREACHABLE", {})
    with socket.socket() as probe:  # a port nothing listens on, then a server on it after the first failure
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(fetch.GITHUB_RAW_ENV, f"http://127.0.0.1:{port}")
    with pytest.raises(
        SourceUnavailable, match=r"needs the file 'mpi/data/first.csv'.*[Cc]onnection refused"
    ):
        fetch.fetch_file("mpi", first)
    late = Played(github={_github_key(second.url): b"question\n"})
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(late))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with pytest.raises(
            SourceUnavailable, match=rf"127.0.0.1:{port} could not be reached earlier in this process"
        ):
            fetch.fetch_file("mpi", second)
        assert late.requests == []
        cached = fetch.cache_root() / "files" / "mpi/data/third.csv"  # a copy an earlier download left
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(b"cached\n")
        third = dataclasses.replace(
            second, path="mpi/data/third.csv", url=second.url.replace("second", "third")
        )
        assert fetch.fetch_file("mpi", third).read_bytes() == b"cached\n"  # the caches are still read
        monkeypatch.setattr(fetch, "_UNREACHABLE", {})  # a new process asks again
        assert fetch.fetch_file("mpi", second).read_bytes() == b"question\n"
    finally:
        httpd.shutdown()
        httpd.server_close()
    played, base = server  # answered with a 404: the host stays in reach
    monkeypatch.setenv(fetch.GITHUB_RAW_ENV, base)
    with pytest.raises(SourceUnavailable, match="404"):
        fetch.fetch_file("mpi", first)
    played.github[_github_key(first.url)] = b"again\n"
    assert fetch.fetch_file("mpi", first).read_bytes() == b"again\n"
    assert fetch._UNREACHABLE == {}


def test_a_hub_file_at_its_commit_is_checked_against_its_pin(server: tuple[Played, str]) -> None:
    """Chatbot Arena's pinned SHA-256 is that of the real file: the fixture served in its place is refused."""
    played, _ = server
    (file,) = chatbotarena.FILES.files
    played.gated.add(file.hub.repo)
    played.hub[(file.hub.repo, file.hub.revision, file.hub.filename)] = (FIXTURES / file.path).read_bytes()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HF_TOKEN", TOKEN)
        with pytest.raises(ChecksumMismatch, match=f"not the pinned {file.sha256} of {file.path}"):
            fetch.fetch_file("chatbotarena_prompts", file)
    resolved = [p for m, p, _ in played.requests if "/resolve/" in p]
    assert resolved and all(f"/resolve/{file.hub.revision}/{file.hub.filename}" in p for p in resolved)


def test_a_gated_file_needs_the_users_token(server: tuple[Played, str], tmp_path: Path) -> None:
    played, _ = server
    (file,) = valueprism.FILES.files
    played.gated.add(file.hub.repo)
    played.hub[(file.hub.repo, file.hub.revision, file.hub.filename)] = (FIXTURES / file.path).read_bytes()
    with pytest.raises(
        TasksUnavailableError, match=rf"{file.path}.*GatedRepoError.*accept its terms.*hf auth login"
    ):
        spectrum_suite.load_dataset("valueprism_situation", split="train", cache_dir=str(tmp_path / "a"))
    assert played.requests and all(auth is None for _, _, auth in played.requests)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HF_TOKEN", TOKEN)  # what `hf auth login` would have stored
        built = spectrum_suite.load_dataset(
            "valueprism_situation", split="train", cache_dir=str(tmp_path / "b")
        )
    assert built.num_rows > 0
    assert played.requests[-1][2] == f"Bearer {TOKEN}"
    asked = len(played.requests)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(
            "SPECTRUM_SUITE_OFFLINE", "1"
        )  # offline, the copy in the Hub cache serves, without a request
        assert (
            fetch.fetch_file("valueprism_situation", file).read_bytes() == (FIXTURES / file.path).read_bytes()
        )
    assert len(played.requests) == asked


def _export(played: Played, shards: dict[str, pa.Table]) -> None:
    (file,) = novacomet.FILES.files
    for name, table in shards.items():
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        played.hub[(file.hub.repo, file.hub.revision, f"{file.hub.filename}/{name}")] = (
            sink.getvalue().to_pybytes()
        )


def test_every_shard_of_an_export_split_is_fetched_and_read(
    server: tuple[Played, str], tmp_path: Path
) -> None:
    played, _ = server
    _export(played, {
        "0000.parquet": pq.read_table(FIXTURES / novacomet.LOCAL / "0000.parquet"),
        "0001.parquet": pa.table({"premise": ["PersonX reads a second shard"], "hypothesis": ["H"]}),
    })  # fmt: skip
    built = _build("novacomet_premise", tmp_path)
    premises = {m["content"] for row in built["messages"] for m in row if m["role"] == "output"}
    assert "PersonX reads a second shard" in premises and "PersonX bakes bread" in premises
    listed = [p for m, p, _ in played.requests if p.startswith("/api/datasets/tsor13/novacomet/tree/")]
    assert listed == ["/api/datasets/tsor13/novacomet/tree/refs/convert/parquet/default/train"]


def test_a_missing_shard_is_named(server: tuple[Played, str], tmp_path: Path) -> None:
    played, _ = server
    (file,) = novacomet.FILES.files
    first = pq.read_table(FIXTURES / novacomet.LOCAL / "0000.parquet")
    _export(played, {"0000.parquet": first, "0002.parquet": first})
    with pytest.raises(SourceUnavailable, match=r"needs the file 'novacomet/default/train/0001.parquet'"):
        fetch.fetch_file("novacomet_premise", file)
    # listed but not served: the shard that failed is named, and no partial split is read
    played.listed[(file.hub.repo, file.hub.revision, file.hub.filename)] = ["0000.parquet", "0001.parquet"]
    with pytest.raises(
        TasksUnavailableError, match=r"needs the file 'novacomet/default/train/0001.parquet'.*Not Found"
    ):
        _build("novacomet_premise", tmp_path)
