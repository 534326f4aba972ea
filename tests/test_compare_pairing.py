"""`compare` pairs the same outputs and rows in both runs, and states its values over exactly those."""

from __future__ import annotations

import numpy as np
import pytest

from tuning.eval.compare import ProtocolMismatch, compare
from tuning.eval.results import AlignResults, AlignTask, EvalResults, SteerResults, SteerTask

EPISODES = [f"flight/{i}/0/0" for i in range(12)]


def loss_of(episode: int, sample: int) -> float:
    """Each (episode, sample) has its own loss, whatever the format that scores it."""
    return 1.0 + 0.37 * episode + 0.11 * sample * sample


def steer_run(fmt: str, first_sample: int, with_samples: bool = True) -> EvalResults:
    """k = 3: outputs of rank 0..3 are samples first_sample .. first_sample + 3 (colon scores an episode's first
    sample, spectrum does not when the episode has no description)."""
    outputs: dict[str, list[float]] = {"episode": [], "shots": [], "sample": [], "loss": [], "all_acc": []}
    for e in range(len(EPISODES)):
        for rank in range(4):
            sample = first_sample + rank
            for key, value in (("episode", e), ("shots", rank), ("sample", sample),
                               ("loss", loss_of(e, sample)), ("all_acc", float((e + sample) % 3 == 0))):  # fmt: skip
                outputs[key].append(value)
    if not with_samples:
        del outputs["sample"]
    keep = [i for i, s in enumerate(outputs["shots"]) if s >= 1]
    metrics = {"loss_geq_1": float(np.mean([outputs["loss"][i] for i in keep])),
               "all_acc_geq_1": float(np.mean([outputs["all_acc"][i] for i in keep]))}  # fmt: skip
    task = SteerTask(k=3, counts={}, metrics=metrics, episode_ids=list(EPISODES), outputs=outputs)
    task.refresh_intervals("flight")
    return EvalResults(model="m", format=fmt, dtype="float32", device="cpu", context_length=None, configs=["flight"],
                       skipped_tasks={}, options={}, steerability=SteerResults({"flight": task}))  # fmt: skip


def test_formats_are_paired_by_sample_index_not_by_rank() -> None:
    colon, spectrum = steer_run("colon", 0), steer_run("spectrum", 1)
    c = compare([colon, spectrum], ["colon", "spectrum"])
    (loss,) = [d for d in c.differences["spectrum"] if d.figure == "loss_geq_1"]
    # samples 2 and 3 are scored with at least one example in both runs, with the same losses: no difference
    shared = [loss_of(e, s) for e in range(len(EPISODES)) for s in (2, 3)]
    assert loss.first == pytest.approx(np.mean(shared)) and loss.later == pytest.approx(np.mean(shared))
    assert loss.later - loss.first == pytest.approx(0.0) and loss.verdict == "no detectable difference"
    # each run's own headline covers all its outputs of rank >= 1, which differ: that is not what is compared
    assert colon.steerability.tasks["flight"].metrics["loss_geq_1"] != pytest.approx(loss.first)


def test_an_older_results_file_is_paired_by_rank_within_one_format_and_refused_across_formats() -> None:
    old, new = steer_run("spectrum", 1, with_samples=False), steer_run("spectrum", 1)
    (loss,) = [d for d in compare([old, new], ["old", "new"]).differences["new"] if d.figure == "loss_geq_1"]
    assert loss.later - loss.first == pytest.approx(0.0)
    with pytest.raises(ProtocolMismatch, match="outputs.sample"):
        compare([steer_run("colon", 0, with_samples=False), new], ["old colon", "new"])
    allowed = compare(
        [steer_run("colon", 0, with_samples=False), new], ["old colon", "new"], allow_mismatch=True
    )
    assert allowed.differences["new"] == [] and "outputs.sample" in allowed.mismatches["new"][0]


def align_run(rows: list[str], js: list[float], clusters: list[str]) -> EvalResults:
    task = AlignTask(counts={}, metrics={"js_divergence": float(np.mean(js))}, js_per_row=js, row_ids=rows,
                     row_clusters=clusters)  # fmt: skip
    task.refresh_intervals("nytimes")
    return EvalResults(model="m", format="spectrum", dtype="float32", device="cpu", context_length=None,
                       configs=["nytimes"], skipped_tasks={}, options={},
                       alignment=AlignResults({"nytimes": task}))  # fmt: skip


def test_values_and_difference_cover_the_same_rows_under_allow_mismatch() -> None:
    rng = np.random.default_rng(0)
    rows = [f"book{b}/{d}" for b in range(30) for d in range(4)]
    clusters = [r.split("/")[0] for r in rows]
    js = list(rng.uniform(0.05, 0.3, size=len(rows)))
    first = align_run(rows, js, clusters)
    later = align_run(rows[:100], [v - 0.01 for v in js[:100]], clusters[:100])  # 20 rows not scored
    c = compare([first, later], ["a", "b"], allow_mismatch=True)
    (d,) = c.differences["b"]
    assert d.first == pytest.approx(np.mean(js[:100]))  # over the 100 shared rows, not all 120
    assert d.later - d.first == pytest.approx(-0.01) and d.verdict == "better"
    assert d.units == 25  # the paired difference resamples the 25 books those rows belong to
