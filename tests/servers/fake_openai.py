"""A small OpenAI-compatible server on 127.0.0.1 for the served backend's unit tests (parsing, retries, limits).

Its prompt log-probabilities come from a real (tiny, random) transformers model, computed the way vLLM answers
them: per prompt position the top ``prompt_logprobs`` tokens plus the prompt token, each with its rank (how
many tokens have a log-probability at least as high). Its samples are scripted token ids. Knobs let a test
make it fail, refuse, cap log-probabilities, drop prompt log-probabilities or die. That the served backend
gives the transformers backend's numbers is shown against a real vLLM server (`tests/test_served_vllm.py`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behaviour:
    """What the fake server does; tests change these while it runs."""

    model_name: str = "tiny"
    max_model_len: int = 2048
    max_logprobs: int = 100
    gives_prompt_logprobs: bool = True
    gives_token_logprobs: bool = True  # logprob_token_ids: listed tokens' log-probabilities after the prompt
    failures: list[int | str] = field(default_factory=list)  # next answers: an HTTP status, or "reset"
    delay: float = 0.0  # seconds each completion takes
    tokenize: Callable[[str], list[int]] | None = None  # /tokenize; None: 404
    sample_ids: Callable[[list[int], int, int], list[int]] = lambda prompt, seed, index: []


class FakeServer:
    """Serve ``model`` (a transformers causal LM) on a free port until `close`."""

    def __init__(self, model: Any, behaviour: Behaviour | None = None) -> None:
        self.model, self.behaviour = model, behaviour or Behaviour()
        self.requests: list[dict[str, Any]] = []
        self.in_flight = self.max_in_flight = 0
        self.dead = False
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        """Stop: no new connections, and open ones are dropped unanswered (as when a server process dies)."""
        self.dead = True
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- answers -------------------------------------------------------------------------------------

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        prompts = body["prompt"] if isinstance(body["prompt"][0], list) else [body["prompt"]]
        top = body.get("prompt_logprobs")
        choices = []
        for i, prompt in enumerate(prompts):
            for j in range(body.get("n", 1)):
                ids = self.behaviour.sample_ids(prompt, body.get("seed") or 0, j)[
                    : body.get("max_tokens", 16)
                ]
                choice: dict[str, Any] = {"index": i * body.get("n", 1) + j, "text": "", "token_ids": ids}
                if top is not None and self.behaviour.gives_prompt_logprobs:
                    choice["prompt_logprobs"] = self.prompt_logprobs(prompt, top)
                if body.get("logprob_token_ids") and self.behaviour.gives_token_logprobs:
                    after = self.logprobs(prompt + [0])[-2]  # the distribution after the whole prompt
                    listed = {f"token_id:{t}": float(after[t]) for t in body["logprob_token_ids"]}
                    choice["logprobs"] = {"top_logprobs": [listed]}
                choices.append(choice)
        return {"object": "text_completion", "model": body["model"], "choices": choices}

    def logprobs(self, ids: list[int]) -> Any:
        """Log-probabilities of the next token at every position of ``ids`` (row p predicts token p + 1)."""
        import torch

        with torch.inference_mode():
            return torch.log_softmax(self.model(input_ids=torch.tensor([ids])).logits[0].float(), dim=-1)

    def prompt_logprobs(self, prompt: list[int], top: int) -> list[dict[str, dict[str, Any]] | None]:
        import torch

        logprobs = self.logprobs(prompt)
        out: list[dict[str, dict[str, Any]] | None] = [None]
        for p in range(1, len(prompt)):
            dist = logprobs[p - 1]
            wanted = [int(t) for t in torch.topk(dist, top).indices] if top else []
            entry = {}
            for t in [prompt[p], *wanted]:
                rank = int((dist >= dist[t]).sum())
                entry[str(t)] = {"logprob": float(dist[t]), "rank": rank, "decoded_token": ""}
            out.append(entry)
        return out

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, data: Any) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                b = server.behaviour
                if self.path == "/v1/models":
                    entry = {"id": b.model_name, "owned_by": "fake", "max_model_len": b.max_model_len}
                    self._send(200, {"object": "list", "data": [entry]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                b = server.behaviour
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == "/tokenize" and b.tokenize is not None:
                    self._send(200, {"tokens": b.tokenize(body["prompt"])})
                    return
                if self.path != "/v1/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                with server._lock:
                    server.requests.append(body)
                    failure = "reset" if server.dead else b.failures.pop(0) if b.failures else None
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if failure == "reset":
                        self.close_connection = True
                        self.connection.close()
                        return
                    if failure is not None:
                        self._send(int(failure), {"error": {"message": f"fake failure {failure}"}})
                        return
                    top = body.get("prompt_logprobs")
                    if top is not None and top > b.max_logprobs:
                        message = f"Requested prompt logprobs of {top}, which is greater than max allowed: {b.max_logprobs}"
                        self._send(400, {"error": {"message": message}})
                        return
                    time.sleep(b.delay)
                    self._send(200, server.completion(body))
                finally:
                    with server._lock:
                        server.in_flight -= 1

        return Handler
