"""Benchmark: the served backend (a vLLM server) against the transformers backend, same items, same run.

    python bench/served.py [--base-url http://127.0.0.1:8000/v1] [--episodes 16] [--rows 16] [--repeats 2]

Without ``--base-url`` it starts vLLM for CPUs from ``.venv-vllm/`` (``bash tests/servers/vllm_venv.sh``) serving
the embedded model in float32 on this machine, and stops it at the end. Items, in the chat format:
``flight`` episodes cut after output 3 (steerability, `LanguageModel.score_outputs`) and ``states`` + ``urn``
alignment rows (`LanguageModel.score_candidates`); coverage prompts (`LanguageModel.sample`, 20 samples of up
to 16 tokens each, one request per prompt as the evaluator sends them). Each is timed on the transformers
backend (float32, ``--threads`` torch threads, the evaluator's batch sizes) and on the server with 1 and 16
requests in flight, interleaved, best of ``--repeats`` after a warm-up; printed: items/s and the ratio to the
transformers backend, and the largest difference of the scores (they must agree to 1e-4). On a CPU the
server and this process share the cores: the figures say what the protocol costs, not what a GPU server gives.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scoring import interleaved_best  # noqa: E402

FORMAT = "chat"
MODEL = "smollm2-135m-instruct"


def items(tokenizer: Any, episodes: int, rows: int) -> dict[str, list]:
    """Steerability episodes, alignment rows and coverage prompts, encoded as the evaluator encodes them."""
    import spectrum_suite
    from spectrum_suite.formats import Format
    from tuning.eval import alignment, coverage
    from tuning.sequences import cut_after, encode_candidates, encode_prompt

    fmt = Format(FORMAT, tokenizer)
    flight = spectrum_suite.load_dataset("flight", split="test")
    steer = [cut_after(fmt.encode(r["messages"], episode=i), 3) for i, r in enumerate(flight)]
    align_rows = list(spectrum_suite.load_dataset("states", split="test"))
    align_rows += list(spectrum_suite.load_dataset("urn", split="test").select(range(rows - len(align_rows))))
    align = [encode_candidates(tokenizer, alignment.prompt_for(r, fmt), r["candidates"]) for r in align_rows]
    cover_rows = [
        next(iter(spectrum_suite.load_dataset(t, split="test"))) for t in ("rng_1_10", "weekdays_full")
    ]
    cover = [
        encode_prompt(tokenizer, coverage.prompt_for(r, s, fmt))
        for r in cover_rows
        for s in ("description", "examples", "both")
    ]
    return {"episodes": [e for e in steer if e is not None][:episodes], "rows": align, "prompts": cover}


def max_diff(a: list, b: list) -> float:
    """The largest difference between two nested lists of numbers (per-output losses or candidate scores)."""
    return max(abs(x - y) for ra, rb in zip(a, b, strict=True) for x, y in zip(ra, rb, strict=True))


def main(argv: list[str] | None = None) -> int:
    import torch

    from tuning.eval.coverage import sampling_stop_strings
    from tuning.lm import LM, ServedLM
    from tuning.loading import load_model_and_tokenizer

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--base-url",
        default=None,
        help="a running server serving the embedded model as 'smollm2-135m-instruct'",
    )
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--rows", type=int, default=16, help="alignment rows (the states row, then urn rows)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the transformers backend")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    server = None
    if args.base_url is None:
        from tests.servers.vllm_server import start_vllm, venv_problem
        from tuning.embedded import embedded_model_dir

        problem = venv_problem()
        if problem:
            print(f"bench/served.py needs a vLLM server: {problem}, or pass --base-url")
            return 2
        server = start_vllm(embedded_model_dir(), Path(tempfile.mkdtemp(prefix="bench-vllm-")) / "server.log")
    try:
        base_url = args.base_url or server.base_url
        model, tokenizer = load_model_and_tokenizer(MODEL, dtype="float32", device="cpu")
        local = LM(model, tokenizer, progress=False)
        served = {c: ServedLM.connect(base_url, MODEL, tokenizer=tokenizer, max_concurrency=c, progress=False)
                  for c in (1, 16)}  # fmt: skip
        work = items(tokenizer, args.episodes, args.rows)
        stops = sampling_stop_strings(tokenizer)

        def losses(lm: Any) -> list[list[float]]:
            return [[r.loss] for r in lm.score_outputs(work["episodes"], batch_size=4)]

        def candidates(lm: Any) -> list[list[float]]:
            return lm.score_candidates(work["rows"], batch_size=32)

        def samples(lm: Any) -> list[list[str]]:
            return [
                lm.sample(p, n=20, max_new_tokens=16, seed=1, stop_strings=stops) for p in work["prompts"]
            ]

        info = served[1].describe()
        print(f"engine: {info['engine']} {info['engine_version']} at {base_url}; transformers: float32, "
              f"{args.threads} torch thread(s); format {FORMAT}")  # fmt: skip
        print(
            "| items | transformers items/s | served c=1 items/s | ratio | served c=16 items/s | ratio | max diff |"
        )
        print("|---|---|---|---|---|---|---|")
        for label, fn, count, numeric in (
            (f"{len(work['episodes'])} flight episodes (steerability)", losses, len(work["episodes"]), True),
            (f"{len(work['rows'])} alignment rows", candidates, len(work["rows"]), True),
            (f"{len(work['prompts'])} coverage prompts x 20 samples", samples, len(work["prompts"]), False),
        ):
            (t_local, r_local), (t_one, r_one), (t_many, _) = interleaved_best(
                [lambda f=fn: f(local), lambda f=fn: f(served[1]), lambda f=fn: f(served[16])], args.repeats
            )
            diff = f"{max_diff(r_local, r_one):.1e}" if numeric else "n/a (sampled)"
            rate = [count / t for t in (t_local, t_one, t_many)]
            print(f"| {label} | {rate[0]:.2f} | {rate[1]:.2f} | {rate[1] / rate[0]:.2f}x | {rate[2]:.2f} | "
                  f"{rate[2] / rate[0]:.2f}x | {diff} |")  # fmt: skip
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
