"""The paper's evaluation protocol by default, so that numbers of different models (and the paper's) compare.

Colon candidates carry their leading space, coverage samples with the model's own top-k (recorded), one
k-tokenizer for every model, at most 1000 episodes/rows per task, intervals on every headline, and `compare`
refuses runs that did not score the same items.
"""

from __future__ import annotations

import copy
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("matplotlib")

import metrics  # noqa: E402
from spectrum_suite.formats import Format  # noqa: E402
from spectrum_suite.selection import choose_k, subsample  # noqa: E402
from tests.test_lm import tiny_model  # noqa: E402
from tests.tokenizer_fixtures import make_tokenizer, smollm2_tokenizer  # noqa: E402
from tuning.eval import evaluate_model, main, write_run  # noqa: E402
from tuning.eval.alignment import evaluate_task, prompt_for  # noqa: E402
from tuning.eval.cli import build_parser  # noqa: E402
from tuning.eval.compare import ProtocolMismatch, compare  # noqa: E402
from tuning.eval.data import load_eval_data  # noqa: E402
from tuning.eval.options import MAX_INSTANCES, EvalOptions  # noqa: E402
from tuning.eval.report import comparison_report  # noqa: E402
from tuning.eval.results import EvalResults  # noqa: E402
from tuning.lm import LM  # noqa: E402

STATES = {
    "instance_id": "states-0",
    "description": "Name a state of the United States.",
    "input": None,
    "output_name": "State",
    "candidates": ["Alabama", "Alaska", "Arizona", "Wyoming"],
    "target_probs": [0.25, 0.25, 0.25, 0.25],
}


@pytest.fixture(scope="module")
def chatml():
    return make_tokenizer("chatml")


@pytest.fixture(scope="module")
def flight_rows():
    return load_eval_data(["flight"]).tasks("episodes")["flight"]


def _scored_candidates(monkeypatch, tokenizer, fmt):
    """The candidate ids the alignment evaluation hands to the model for the STATES row."""
    lm = LM(tiny_model(tokenizer, context=512), tokenizer, progress=False)
    seen = []
    score = lm.score_candidates

    def spy(items, **kwargs):
        seen.extend(items)
        return score(items, **kwargs)

    monkeypatch.setattr(lm, "score_candidates", spy)
    task = evaluate_task(
        lm, Format(fmt, tokenizer), [STATES], metrics.load("distributional_alignment"), EvalOptions(), ""
    )
    assert task.metrics is not None and task.counts["evaluated"] == 1
    return seen[0]


def test_colon_candidates_are_scored_with_their_leading_space(monkeypatch):
    tok = smollm2_tokenizer()
    items = _scored_candidates(monkeypatch, tok, "colon")
    prompt = prompt_for(STATES, Format("colon", tok))
    assert prompt.endswith("State:")
    prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    for candidate, ids in zip(STATES["candidates"], items.candidate_ids, strict=True):
        by_hand = tok(prompt + " " + candidate, add_special_tokens=False)["input_ids"]
        assert by_hand[: len(prompt_ids)] == prompt_ids
        assert ids == by_hand[len(prompt_ids) :], candidate
    assert len(items.candidate_ids[0]) == 1  # " Alabama" is one SmolLM2 token; "Alabama" alone is three
    assert len(tok("Alabama", add_special_tokens=False)["input_ids"]) == 3


def test_spectrum_candidates_follow_the_header_line_without_a_space(monkeypatch, chatml):
    items = _scored_candidates(monkeypatch, chatml, "spectrum")
    first = chatml.decode(items.candidate_ids[0])
    assert first == "Alabama"


def test_the_default_protocol_is_the_papers():
    opts = EvalOptions()
    assert opts.max_instances == MAX_INSTANCES == 1000
    assert opts.top_k is None and opts.k_tokenizer == "smollm2-135m-instruct"
    args = build_parser().parse_args(["--model", "m", "--out", "o"])
    assert (args.max_instances, args.top_k, args.k_tokenizer) == (1000, None, "smollm2-135m-instruct")
    assert (
        build_parser().parse_args(["--model", "m", "--out", "o", "--max-instances", "all"]).max_instances
        is None
    )
    capped = subsample(1500, MAX_INSTANCES)
    assert len(set(capped)) == 1000 and max(capped) < 1500 and capped == subsample(1500, MAX_INSTANCES)
    assert sorted(subsample(999, MAX_INSTANCES)) == list(range(999))


def test_one_home_for_the_evaluation_options(capsys):
    """tuning.eval's command line and tuning.run's --eval_* options are EvalOptions' own fields, in both
    spellings, with its defaults and its range checks."""
    from dataclasses import fields

    from tuning.eval.cli import parse
    from tuning.run import arguments

    _, opts, _ = parse(["--model", "m", "--out", "o"])
    assert opts == EvalOptions()
    snake = parse(
        ["--model", "m", "--out", "o", "--max_instances", "3", "--k_window", "64", "--no_progress"]
    )[1]
    kebab = parse(
        ["--model", "m", "--out", "o", "--max-instances", "3", "--k-window", "64", "--no-progress"]
    )[1]
    assert snake == kebab == EvalOptions(max_instances=3, k_window=64, progress=False)
    assert parse(["--model", "m", "--out", "o", "--settings", "both", "--k", "2"])[1].settings == ["both"]
    with pytest.raises(SystemExit):
        parse(["--model", "m", "--out", "o", "--max-instances", "0"])
    assert "max_instances must be an integer of at least 1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="max_instances must be an integer of at least 1"):
        EvalOptions(max_instances=0)
    run_fields = {f.name for f in fields(arguments.EvalArguments)}
    assert run_fields == {f"eval_{f.name}" for f in fields(EvalOptions)} - {
        "eval_seed",
        "eval_data_dir",
        "eval_progress",
    }
    config = arguments.parse(["--eval-k-window", "64", "--eval_max_instances", "all", "--seed", "7"])
    from tuning.run.evaluation import eval_options

    run_opts = eval_options(config)
    assert (run_opts.k_window, run_opts.max_instances, run_opts.seed, run_opts.top_k) == (64, None, 7, None)
    with pytest.raises(ValueError, match="--eval_k_window must be an integer of at least 1"):
        arguments.parse(["--eval-k-window", "0"])


def test_sampling_without_top_k_applies_and_records_the_models_default(chatml):
    model = tiny_model(chatml)
    lm = LM(model, chatml, progress=False)
    assert lm.effective_top_k(None) == 50  # no top_k in the checkpoint: the library's default
    model.generation_config.top_k = 3
    assert lm.effective_top_k(None) == 3 and lm.effective_top_k(0) == 0
    prompt = chatml("Output:")["input_ids"]

    def draw(top_k):
        return lm.sample(prompt, n=12, max_new_tokens=4, seed=5, stop_strings=[], top_k=top_k, batch_size=12)

    assert draw(None) == draw(3)
    assert draw(None) != draw(0)  # 700 tokens unfiltered against the 3 most likely


def test_results_record_the_top_k_sampling_applied(chatml):
    model = tiny_model(chatml, context=4096)
    model.generation_config.top_k = 7
    r = evaluate_model(model, chatml, "spectrum", ["rng_1_10"], num_generations=2, progress=False)
    assert r.options["top_k"] is None and r.coverage.top_k == 7


def test_two_models_are_scored_on_the_same_k_and_episodes(chatml, flight_rows):
    llama = make_tokenizer("llama3")
    opts = {"max_instances": 3, "progress": False}
    a = evaluate_model(tiny_model(chatml, context=8192), chatml, "spectrum", ["flight"], **opts)
    b = evaluate_model(tiny_model(llama, context=8192), llama, "colon", ["flight"], **opts)
    ta, tb = a.steerability.tasks["flight"], b.steerability.tasks["flight"]
    assert ta.k == tb.k and ta.episode_ids == tb.episode_ids and len(ta.episode_ids) == 3
    # the k the embedded (SmolLM2) tokenizer chooses, not either model's own
    k_tok = smollm2_tokenizer()
    k_format = Format("spectrum", k_tok)
    encoded = [k_format.encode(r["messages"], max_length=2049, episode=i) for i, r in enumerate(flight_rows)]
    assert ta.k == choose_k(encoded, window=2048, min_episodes_for_k2=10).k
    own = evaluate_model(tiny_model(chatml, context=8192), chatml, "spectrum", ["flight"], k_tokenizer="model",
                         **opts)  # fmt: skip
    assert own.steerability.tasks["flight"].k != ta.k  # the test tokenizer is far coarser than SmolLM2's
    assert a.options["k_tokenizer"] == "smollm2-135m-instruct"


def test_k_from_reuses_another_runs_k_and_episodes(chatml, tmp_path):
    first = evaluate_model(tiny_model(chatml, context=8192), chatml, "spectrum", ["flight"], max_instances=3,
                           k=2, progress=False)  # fmt: skip
    write_run(first, tmp_path / "first")
    again = evaluate_model(tiny_model(chatml, seed=1, context=8192), chatml, "chat", ["flight"], max_instances=3,
                           k_from=str(tmp_path / "first" / "results.json"), progress=False)  # fmt: skip
    ta, tb = first.steerability.tasks["flight"], again.steerability.tasks["flight"]
    assert (tb.k, tb.episode_ids) == (ta.k, ta.episode_ids) == (2, ta.episode_ids)
    with pytest.raises(ValueError, match="either a fixed k or k_from"):
        EvalOptions(k=2, k_from="x.json")


@pytest.fixture(scope="module")
def run(chatml):
    model = tiny_model(chatml, context=4096)
    return evaluate_model(model, chatml, "spectrum", ["flight", "urn", "rng_1_10"], max_instances=6,
                          num_generations=6, k=2, progress=False)  # fmt: skip


def test_every_headline_carries_a_95_percent_interval(run, tmp_path):
    assert set(run.intervals) == set(run.headline)
    for key, value in run.headline.items():
        bounds = run.intervals[key]  # one coverage task too: the tasks are held fixed, its own noise counts
        assert bounds[0] <= value <= bounds[1], key
    methods = json.loads(run.save(tmp_path / "r.json").read_text())["interval_methods"]
    assert "bootstrap" in methods["loss_geq_1"] and "Wilson" in methods["percent_valid"]
    low, high = run.intervals["steer/loss_geq_1"]
    assert low < high  # six episodes of a random model do not all score alike
    write_run(run, tmp_path / "run")  # a folder of its own: tmp_path holds r.json, which it did not write
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["intervals"]["steer/loss_geq_1"] == pytest.approx(run.intervals["steer/loss_geq_1"])
    task = run.steerability.tasks["flight"]
    lo, hi = task.intervals["loss_geq_1"]
    assert lo <= task.metrics["loss_geq_1"] <= hi
    assert task.clusters("loss").mean == pytest.approx(task.metrics["loss_geq_1"])


def _shifted(run, delta):
    """A copy of ``run`` whose every steerability loss is ``delta`` larger (a paired change)."""
    other = copy.deepcopy(run)
    task = other.steerability.tasks["flight"]
    task.outputs["loss"] = [x + delta for x in task.outputs["loss"]]
    task.metrics["loss_geq_1"] += delta
    return other


def test_compare_counts_better_same_and_worse_with_paired_intervals(run):
    better, same = _shifted(run, -0.5), copy.deepcopy(run)
    c = compare([run, better, same], ["start", "better", "same"])
    (diff,) = [d for d in c.differences["better"] if d.figure == "loss_geq_1"]
    # every output 0.5 lower: every resample says so, and the p-value is the smallest the resamples can give
    assert diff.low == pytest.approx(-0.5) and diff.high == pytest.approx(-0.5) and diff.verdict == "better"
    assert diff.p_value == pytest.approx(2 / 4001)
    assert c.tally("better", "loss_geq_1") == {
        "better": 1,
        "no detectable difference": 0,
        "worse": 0,
        "untested": 0,
    }
    assert c.tally("same", "loss_geq_1") == {
        "better": 0,
        "no detectable difference": 1,
        "worse": 0,
        "untested": 0,
    }
    assert c.tally("same", "js_divergence") == {"better": 0, "no detectable difference": 1, "worse": 0,
                                                "untested": 0}  # fmt: skip
    worse = _shifted(run, +0.5)
    assert compare([run, worse], ["a", "b"]).tally("b", "loss_geq_1") == {
        "better": 0,
        "no detectable difference": 0,
        "worse": 1,
        "untested": 0,
    }
    report = comparison_report(c)
    assert "## Better, no detectable difference, worse against start" in report and "| flight |" in report
    assert "Holm" in report and "no detectable difference" in report


def test_a_task_of_one_row_has_no_interval_and_is_never_a_win(chatml, tmp_path):
    """`states` is one row: resampling it always gives the row itself, so a zero-width interval would call any
    difference between two models certain. It gets no interval, and a comparison calls it untested."""
    a, b = (evaluate_model(tiny_model(chatml, context=4096, seed=seed), chatml, "spectrum", ["states"],
                           progress=False) for seed in (0, 1))  # fmt: skip
    task = a.alignment.tasks["states"]
    assert len(task.row_ids) == 1 and task.metrics["js_divergence"] > 0
    assert task.intervals["js_divergence"] is None
    a = EvalResults.load(
        a.save(tmp_path / "a.json")
    )  # the missing interval survives results.json (compare, resume)
    assert a.alignment.tasks["states"].intervals["js_divergence"] is None
    c = compare([a, b], ["a", "b"])
    (diff,) = c.differences["b"]
    assert diff.later != diff.first and diff.verdict == "untested"
    assert c.tally("b", "js_divergence") == {
        "better": 0,
        "no detectable difference": 0,
        "worse": 0,
        "untested": 1,
    }
    report = comparison_report(c)
    assert "0/0/0 (+1 untested)" in report and "(one item: no interval) untested" in report


def test_runs_that_each_sampled_with_their_own_generation_config_compare(run):
    """The paper's protocol: no top-k fixed, each model samples with its own (a tuned model's config turns it
    off); the comparison is made, and says how each run sampled."""
    tuned = copy.deepcopy(run)
    tuned.coverage.top_k = 0
    assert run.options["top_k"] is None and run.coverage.top_k == 50
    found = compare([run, tuned], ["start", "tuned"])
    assert found.mismatches["tuned"] == [] and sum(found.tally("tuned", "percent_valid").values()) == 1
    assert (
        "How each run sampled (coverage): start top-k 50 (its generation config), temperature 1, top-p 1; "
        "tuned top-k none (its generation config), temperature 1, top-p 1." in comparison_report(found)
    )


def test_compare_refuses_runs_of_another_protocol_k_or_episodes(run):
    fixed, other = copy.deepcopy(run), copy.deepcopy(run)
    fixed.options["top_k"], other.options["top_k"] = 50, 20  # both fixed by the user, and unlike
    other.coverage.top_k = 20
    with pytest.raises(
        ProtocolMismatch, match=r"top-k applied in sampling: top-k 50 \(fixed by top_k\).* vs top-k 20"
    ):
        compare([fixed, other], ["a", "b"])
    other.options["top_k"] = None  # one fixed 50, the other's model applied 20: still not the top-k asked for
    with pytest.raises(ProtocolMismatch, match=r"top-k 20 \(its generation config\)"):
        compare([fixed, other], ["a", "b"])
    other.coverage.top_k = 50  # one fixed 50, the other's model applied 50 too: the same sampling
    assert compare([fixed, other], ["a", "b"]).mismatches["b"] == []
    other = copy.deepcopy(run)
    other.coverage.temperature = 0.7
    with pytest.raises(ProtocolMismatch, match="temperature/top-p: 1/1 vs 0.7/1"):
        compare([run, other], ["a", "b"])
    other = copy.deepcopy(run)
    other.options["num_generations"] = 5
    with pytest.raises(ProtocolMismatch, match="num_generations: 6 vs 5"):
        compare([run, other], ["a", "b"])
    assert compare([run, other], ["a", "b"], allow_mismatch=True).mismatches["b"] == [
        "num_generations: 6 vs 5"
    ]
    other = copy.deepcopy(run)
    other.alignment.tasks["urn"].row_ids[0] = "urn-elsewhere"
    with pytest.raises(ProtocolMismatch, match="urn: other rows"):
        compare([run, other], ["a", "b"])
    other = copy.deepcopy(run)
    other.steerability.tasks["flight"].k = 3
    with pytest.raises(ProtocolMismatch, match="flight: k 2 vs 3"):
        compare([run, other], ["a", "b"])
    other = copy.deepcopy(run)
    other.steerability.tasks["flight"].episode_ids[0] = "flight-elsewhere"
    with pytest.raises(ProtocolMismatch, match="flight: other episodes"):
        compare([run, other], ["a", "b"])


def test_compare_cli_refuses_a_mismatch_unless_told(run, tmp_path, capsys):
    other = copy.deepcopy(run)
    other.options["max_instances"] = 5
    write_run(run, tmp_path / "a")
    write_run(other, tmp_path / "b")
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert "max_instances: 6 vs 5" in capsys.readouterr().err
    out = tmp_path / "cmp"
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--allow-protocol-mismatch",
                 "--out", str(out)]) == 0  # fmt: skip
    text = (out / "compare.md").read_text()
    assert "max_instances: 6 vs 5" in text and "compare_steer_curves.png" in text


def test_coverage_task_intervals_contain_the_metrics_values(run):
    setting = run.coverage.settings["both"]
    for task in setting.validity:
        for name in ("percent_valid", "diversity", "yield"):
            low, high = setting.intervals[task][name]
            assert low <= setting.task_value(task, name) <= high, (task, name)
