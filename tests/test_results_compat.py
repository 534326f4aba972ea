"""results.json files written before the current interval methods still load, and get the current intervals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_compare_pairing import align_run, steer_run
from tuning.eval.results import INTERVAL_METHODS, EvalResults
from tuning.jsonfile import JSONFileError


def test_an_older_results_file_loads_and_its_intervals_are_recomputed(tmp_path: Path) -> None:
    run = steer_run("spectrum", 1)
    run.alignment = align_run([f"b{i}/{d}" for i in range(10) for d in range(4)],
                              [0.1 + 0.01 * i for i in range(40)], [f"b{i}" for i in range(10) for _ in range(4)]).alignment  # fmt: skip
    data = json.loads(run.save(tmp_path / "new.json").read_text())
    assert data["interval_methods"] == INTERVAL_METHODS
    older = json.loads(json.dumps(data))
    del older["interval_methods"]
    del older["steerability"]["tasks"]["flight"]["outputs"]["sample"]
    del older["alignment"]["tasks"]["nytimes"]["row_clusters"]
    older["steerability"]["tasks"]["flight"]["intervals"]["loss_geq_1"] = [0.0, 99.0]  # the old method's
    (tmp_path / "old.json").write_text(json.dumps(older))
    loaded = EvalResults.load(tmp_path / "old.json")
    fresh = steer_run("spectrum", 1, with_samples=False).steerability.tasks["flight"].intervals
    for figure, bounds in fresh.items():
        assert loaded.steerability.tasks["flight"].intervals[figure] == pytest.approx(bounds), figure
    # without recorded clusters every row is its own: the interval is the one of independent rows
    assert loaded.alignment.tasks["nytimes"].cluster_ids == loaded.alignment.tasks["nytimes"].row_ids
    assert loaded.intervals["align/js_divergence"] is not None


def test_a_results_file_missing_a_required_field_names_it(tmp_path: Path) -> None:
    data = json.loads(steer_run("spectrum", 1).save(tmp_path / "r.json").read_text())
    del data["steerability"]["tasks"]["flight"]["counts"]
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(JSONFileError, match=r"results.steerability.tasks.flight: field 'counts' is missing"):
        EvalResults.load(tmp_path / "bad.json")


def test_the_headline_js_divergence_is_the_papers_seven_tasks_with_states_beside() -> None:
    run = align_run([f"b{i}/{d}" for i in range(10) for d in range(4)], [0.2] * 40,
                    [f"b{i}" for i in range(10) for _ in range(4)])  # fmt: skip
    states = align_run(["states/0"], [0.5], ["states/0"]).alignment.tasks["nytimes"]
    run.alignment.tasks["states"] = states
    assert run.headline["align/js_divergence"] == pytest.approx(0.2)  # nytimes alone, not (0.2 + 0.5) / 2
    assert run.headline["align/states/js_divergence"] == pytest.approx(0.5)
    assert run.intervals["align/states/js_divergence"] is None  # one row: nothing to resample
