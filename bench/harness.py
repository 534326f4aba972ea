"""Benchmark: steerability items scored through lm-evaluation-harness against `tuning.eval`'s teacher forcing.

    python bench/harness.py [--model smollm2-135m-instruct] [--task flight] [--episodes 8] [--k 3] [--repeats 2]

The same episodes, k and outputs (the task folder `spectrum-suite harness` writes), the same model object in the
same process, float32 on the CPU, the same batch size. It times `tuning.lm.LM.score_outputs` (one teacher-forced
pass per episode scores all its outputs) against the harness's hf model answering the folder's requests (one
log-likelihood request per output, and one for the whitespace before it: each re-reads the whole text before the
output), checks that both give the same ``loss_geq_1`` to 1e-3 relative, and prints the ratio. Tokenisation of the
episodes is left out of our time; the harness's own request encoding is in its time. The load average and the
busiest other processes are printed before and after, since the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import metrics  # noqa: E402
from bench.scoring import interleaved_best  # noqa: E402
from metrics import harness as runtime  # noqa: E402
from spectrum_suite.formats import Format  # noqa: E402
from spectrum_suite.harness import export  # noqa: E402
from tuning.eval.data import load_eval_data  # noqa: E402
from tuning.eval.options import EvalOptions  # noqa: E402
from tuning.eval.steerability import metric_inputs, prepare_task  # noqa: E402
from tuning.lm import LM  # noqa: E402
from tuning.loading import load_model_and_tokenizer  # noqa: E402

TOLERANCE = 1e-3


def machine_load() -> str:
    """The load average and the three busiest processes other than this one."""
    top = subprocess.run(
        ["ps", "-eo", "pid,pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True
    ).stdout
    others = [line.split(None, 2) for line in top.splitlines()[1:] if line.split()[0] != str(os.getpid())][:3]
    busy = ", ".join(f"{name} {cpu}%" for _, cpu, name in others)
    return f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}; busiest others: {busy}"


def harness_requests(folder: Path, name: str) -> list:
    """The harness's log-likelihood requests of one exported task, built by the harness itself."""
    from lm_eval.tasks import TaskManager

    task = TaskManager(include_path=str(folder)).load([name])["tasks"][name]
    task.build_all_requests()
    return task.instances


def harness_loss(instances: Sequence, responses: Sequence) -> float:
    """``loss_geq_1`` from the harness's responses, through the folder's own process_results and aggregation."""
    per_doc: dict[int, list] = defaultdict(list)
    for instance, response in zip(instances, responses, strict=True):
        per_doc[instance.doc_id].append((instance.idx, instance.doc, response))
    items = []
    for answers in per_doc.values():
        answers.sort(key=lambda a: a[0])
        items.append(runtime.steer_results(answers[0][1], [a[2] for a in answers])["loss_geq_1"])
    return runtime.loss_geq_1(items)


def main(argv: Sequence[str] | None = None) -> int:
    import torch
    from lm_eval.models.huggingface import HFLM

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="smollm2-135m-instruct")
    p.add_argument("--format", default="spectrum", choices=("spectrum", "colon", "chat"))
    p.add_argument("--task", default="flight", help="an episode task")
    p.add_argument("--episodes", type=int, default=8, help="episodes (seeded subsample, as tuning.eval)")
    p.add_argument("--k", type=int, default=3, help="outputs per episode after the first")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"before: {machine_load()}")
    model, tokenizer = load_model_and_tokenizer(args.model, dtype="float32", device="cpu")
    opts = EvalOptions(configs=[args.task], max_instances=args.episodes, k=args.k, progress=False)
    lm = LM(model, tokenizer, progress=False)
    rows = load_eval_data([args.task]).tasks("episodes")[args.task]
    fmt = Format(args.format, tokenizer)
    k, sequences, _ = prepare_task(args.task, rows, fmt, lm, Format("spectrum", tokenizer), opts)
    with tempfile.TemporaryDirectory() as tmp:
        done = export(Path(tmp) / "tasks", args.model, args.format, options=opts, k_tokenizer="model")
        instances = harness_requests(done.folder, f"spectrum_{args.task}")
    hflm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=args.batch_size, device="cpu")
    steerability = metrics.load("steerability")
    (ours_s, records), (harness_s, responses) = interleaved_best(
        [
            lambda: lm.score_outputs(sequences, batch_size=args.batch_size),
            lambda: hflm.loglikelihood(instances, disable_tqdm=True),
        ],
        args.repeats,
    )
    ours = steerability.compute(**metric_inputs(records, args.task), k=k)["loss_geq_1"]
    theirs = harness_loss(instances, responses)
    tokens = sum(len(s.input_ids) for s in sequences)
    print(
        f"model {args.model}, format {args.format}, task {args.task}, {len(sequences)} episodes, k={k}, "
        f"{tokens} episode tokens, batch {args.batch_size}, torch threads {torch.get_num_threads()}, CPU"
    )
    print("| path | requests | seconds | loss_geq_1 |")
    print("|---|---:|---:|---:|")
    print(f"| tuning.eval teacher forcing | {len(sequences)} episodes | {ours_s:.2f} | {ours:.6f} |")
    print(f"| lm-evaluation-harness hf | {len(instances)} log-likelihoods | {harness_s:.2f} | {theirs:.6f} |")
    gap = abs(theirs - ours) / abs(ours)
    print(f"harness / ours: {harness_s / ours_s:.1f}x the time; loss_geq_1 relative difference {gap:.1e}")
    print(f"after: {machine_load()}")
    if gap > TOLERANCE:
        print(f"loss_geq_1 differs by more than {TOLERANCE} relative", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
