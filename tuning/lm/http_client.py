"""A small JSON-over-HTTP client for an OpenAI-compatible server: bounded concurrency, retries, clear errors.

The standard library only (``http.client``, one kept-alive connection per worker thread): the evaluator needs
a handful of POSTs and GETs, not an SDK. Transient failures (connection refused or reset, timeouts, HTTP 408,
425, 429 and 5xx) are retried with exponential backoff (a ``Retry-After`` header is honoured, capped); a server
that keeps failing ends in one `ServerError` naming the address, the endpoint and the last failure, and a
request the server refuses (other 4xx) in a `ServerRefusedError` carrying the server's own message.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from tqdm.auto import tqdm

T = TypeVar("T")
R = TypeVar("R")

#: HTTP statuses that say "try again later" rather than "this request is wrong".
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class ServerError(RuntimeError):
    """The server could not give an answer: unreachable, kept failing, or answered something unexpected."""


class ServerRefusedError(ServerError):
    """The server answered that it will not do this request (HTTP 4xx); ``message`` is the server's reason."""

    def __init__(self, text: str, status: int, message: str) -> None:
        super().__init__(text)
        self.status, self.message = status, message


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries per request, waiting ``first_wait`` seconds after the first failure, doubling up to
    ``max_wait`` (about 30 s in all by default: a restarting server gets time, a dead one a prompt error)."""

    attempts: int = 6
    first_wait: float = 1.0
    max_wait: float = 16.0

    def wait(self, attempt: int, retry_after: float | None) -> float:
        backoff = min(self.max_wait, self.first_wait * 2**attempt)
        return min(self.max_wait, retry_after) if retry_after is not None else backoff


class _Transient(Exception):
    """One failed try that may succeed when repeated."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _server_message(body: bytes) -> str:
    """The reason an OpenAI-compatible error body gives (``{"error": {"message": ...}}``), else its text."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500]
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return text[:500]


class JSONClient:
    """GET and POST JSON against one server, at most ``max_concurrency`` requests in flight at once.

    ``base_url`` is the API root as OpenAI clients take it (``http://host:8000/v1``; a URL without the ``/v1``
    gets it appended). `get` and `post` take paths below that root; ``root=True`` addresses the server's own
    root instead (vLLM's ``/version`` and ``/tokenize``). The bearer token comes from ``api_key`` or ``$OPENAI_API_KEY``.
    """

    def __init__(
        self, base_url: str, *, max_concurrency: int = 8, timeout: float = 600.0, retry: RetryPolicy | None = None,
        api_key: str | None = None,
    ) -> None:  # fmt: skip
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"--base-url must be an http(s) URL such as http://127.0.0.1:8000/v1, got {base_url!r}"
            )
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        path = parts.path.rstrip("/")
        self.server_root = path.removesuffix("/v1")
        self.api_root = self.server_root + "/v1"
        self.base_url = f"{parts.scheme}://{parts.netloc}{self.api_root}"
        self._https, self._host, self._port = parts.scheme == "https", parts.hostname, parts.port
        self.max_concurrency, self.timeout = max_concurrency, timeout
        self.retry = retry or RetryPolicy()
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._local = threading.local()

    def get(self, path: str, *, root: bool = False) -> Any:
        return self._request("GET", path, None, root)

    def post(self, path: str, body: dict[str, Any], *, root: bool = False) -> Any:
        return self._request("POST", path, json.dumps(body).encode(), root)

    def map(
        self, fn: Callable[[T], R], items: Sequence[T], *, desc: str | None = None, progress: bool = True
    ) -> list[R]:
        """``fn`` over ``items`` on ``max_concurrency`` threads; results in order. The first failure cancels
        what has not started and is raised once the running calls have ended."""
        if not items:
            return []
        results: list[Any] = [None] * len(items)
        with (
            ThreadPoolExecutor(self.max_concurrency) as pool,
            tqdm(total=len(items), desc=desc, disable=not progress, leave=False) as bar,
        ):
            futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
            pending: Iterable[Any] = futures
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in done:
                    if future.exception() is not None:
                        for other in pending:
                            other.cancel()
                        raise future.exception()
                    results[futures[future]] = future.result()
                    bar.update(1)
        return results

    # -- one request -----------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: bytes | None, root: bool) -> Any:
        target = f"{self.server_root if root else self.api_root}/{path.lstrip('/')}"
        started = time.monotonic()
        with self._slots:
            for attempt in range(self.retry.attempts):
                try:
                    status, data = self._once(method, target, body)
                except _Transient as err:
                    if attempt + 1 == self.retry.attempts:
                        raise ServerError(
                            f"the server at {self.base_url} did not answer {method} {target}: {err} "
                            f"({self.retry.attempts} tries over {time.monotonic() - started:.0f} s). "
                            "Is it still running?"
                        ) from err
                    time.sleep(self.retry.wait(attempt, err.retry_after))
                    continue
                if status >= 400:
                    message = _server_message(data)
                    raise ServerRefusedError(
                        f"the server at {self.base_url} refused {method} {target} (HTTP {status}): {message}",
                        status,
                        message,
                    )
                try:
                    return json.loads(data)
                except ValueError as err:
                    raise ServerError(
                        f"the server at {self.base_url} answered {method} {target} with something that is not "
                        f"JSON: {data[:200]!r}"
                    ) from err
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = kind(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _once(self, method: str, target: str, body: bytes | None) -> tuple[int, bytes]:
        """One try: the status and body, or `_Transient` for a failure worth repeating."""
        try:
            conn = self._connection()
            conn.request(method, target, body=body, headers=self._headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as err:  # refused, reset, timed out, closed mid-answer
            self._drop_connection()
            raise _Transient(f"{type(err).__name__}: {err}") from err
        if response.will_close:
            self._drop_connection()
        if response.status in TRANSIENT_STATUS:
            retry_after = response.getheader("Retry-After")
            seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
            raise _Transient(f"HTTP {response.status}: {_server_message(data)}", seconds)
        return response.status, data
