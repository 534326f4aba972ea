"""``python -m tuning.run`` on a tiny random model: options, bad input, loss masking, outputs, resume, push."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

from spectrum_suite.formats import Format, chat_template
from tests.tokenizer_fixtures import build_tokenizer
from tuning.eval import EvalResults
from tuning.run import arguments, folder, outputs
from tuning.run.cli import main as run_main
from tuning.run.data import build_train_dataset, load_episodes
from tuning.run.packing import pack, packing_supported

REPO = Path(__file__).resolve().parents[1]
TINY_ARGS = [
    "--configs",
    "coinflip",
    "--max-train-episodes",
    "16",
    "--max-length",
    "96",
    "--effective-batch",
    "4",
]


def _save_tiny(path: Path, hidden: int = 32, context: int = 512) -> Path:
    tok = build_tokenizer("chatml")
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=context, tie_word_embeddings=True,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    LlamaForCausalLM(cfg).save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny(tmp_path_factory.mktemp("tiny") / "tiny-chatml")


# ---------------------------------------------------------------------------------------------------
# Options


def test_help_lists_every_option(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--model", "--instruct-twin", "--lora_r", "--learning-rate", "--lr_scheduler_type",
                   "--num_train_epochs", "--max-length", "--effective-batch", "--preset", "--packing", "--bf16",
                   "--resume", "--push_to_hub", "--hub_model_id", "--description-prob", "--drop-partial-outputs",
                   "--eval-max-instances", "--report_to", "--optim", "--log_level"):  # fmt: skip
        assert option in text


def test_presets_are_the_paper_defaults_and_explicit_options_win() -> None:
    v1 = arguments.parse(["--preset", "v1"])
    t = v1.training
    assert (t.learning_rate, t.max_length, v1.script.effective_batch, t.num_train_epochs, t.warmup_steps) == (
        3e-6, 1024, 1024, 1.0, 0,
    )  # fmt: skip
    assert str(getattr(t.lr_scheduler_type, "value", t.lr_scheduler_type)) == "linear"
    assert arguments.parse(["--preset", "v0"]).script.effective_batch == 2048
    mine = arguments.parse(["--preset", "v1", "--learning-rate", "1e-5", "--max-length", "512"])
    assert (mine.training.learning_rate, mine.training.max_length, mine.script.effective_batch) == (
        1e-5,
        512,
        1024,
    )
    assert arguments.parse([]).script.preset == ("v1" if torch.cuda.is_available() else "quick")
    lora = arguments.parse(["--use_peft", "--lora_r", "8", "--lora-alpha", "40"]).model
    assert lora.use_peft and (lora.lora_r, lora.lora_alpha) == (8, 40)
    assert arguments.parse(["--use-peft", "--lora-r", "16"]).model.lora_alpha == 80  # the recipes' 5 x 16


def test_the_paper_presets_train_on_every_instance() -> None:
    assert arguments.parse(["--preset", "v1"]).script.validation_fraction == 0.0
    assert arguments.parse(["--preset", "v0"]).script.validation_fraction == 0.0
    assert arguments.parse(["--preset", "quick"]).script.validation_fraction == 0.05
    assert arguments.parse(["--preset", "v1"]).evaluation.eval_max_instances == 1000


def test_each_arm_samples_with_its_own_generation_config_unless_top_k_is_fixed() -> None:
    from tuning.run.evaluation import eval_options

    assert (
        eval_options(arguments.parse([])).top_k is None
    )  # the paper's: each model's own (the tuned model: 0)
    assert eval_options(arguments.parse(["--eval-top-k", "0"])).top_k == 0
    every, _ = load_episodes(["coinflip"], validation_fraction=0.0)
    held, _ = load_episodes(["coinflip"], validation_fraction=0.25)
    everyone = set(every.unique("instance_id"))
    assert set(held.unique("instance_id")) < everyone
    validation, _ = load_episodes(["coinflip"], split="validation", validation_fraction=0.25)
    assert set(validation.unique("instance_id")) == everyone - set(held.unique("instance_id"))


def test_the_start_models_own_format_follows_its_kind_not_its_chat_template() -> None:
    from tuning.run.evaluation import arms
    from tuning.run.start_kind import decide

    assert (
        decide("tiny-plain", lambda: build_tokenizer("plain")).format == "colon"
    )  # no chat template: a base model
    with pytest.raises(
        arguments.RunInputError, match="--start_kind"
    ):  # a template alone no longer means chat
        decide("tiny-chatml", lambda: build_tokenizer("chatml"))
    assert decide("tiny-chatml", lambda: build_tokenizer("chatml"), start_format="colon").format == "colon"
    assert decide("tiny-chatml-instruct", lambda: build_tokenizer("chatml")).format == "chat"
    assert [(a.folder, a.fmt, a.tuned) for a in arms("colon")] == [
        ("start-colon", "colon", False), ("start-spectrum", "spectrum", False), ("tuned-spectrum", "spectrum", True),
    ]  # fmt: skip


def test_a_start_arm_is_reused_only_for_the_same_evaluation(tmp_path: Path) -> None:
    from dataclasses import replace

    from tuning.eval import EvalOptions
    from tuning.run.evaluation import cached

    options = EvalOptions(configs=["urn"], max_instances=2)
    earlier = EvalResults(model="m", format="chat", dtype="float32", device="cpu", context_length=64,
                          configs=["urn"], skipped_tasks={}, options=options.record())  # fmt: skip
    earlier.save(tmp_path / "results.json")
    assert cached(tmp_path, options, "chat") == earlier
    assert cached(tmp_path, replace(options, progress=False), "chat") == earlier  # display only
    assert cached(tmp_path, options, "colon") is None
    assert cached(tmp_path, replace(options, max_instances=3), "chat") is None
    assert cached(tmp_path / "elsewhere", options, "chat") is None


def test_gradient_accumulation_and_run_names() -> None:
    assert arguments.gradient_accumulation(1024, 1, 4, 1.0) == 256
    assert arguments.gradient_accumulation(2048, 1, 4, 1.0) == 512
    assert arguments.gradient_accumulation(1024, 1, 8, 1.0) == 128
    assert arguments.gradient_accumulation(1024, 1, 4, 2.0) == 128  # packed rows hold two episodes each
    assert arguments.gradient_accumulation(2, 4, 1, 1.0) == 1
    names = {
        arguments.parse(["--model", "google/gemma-3-12b-pt", "--preset", p]).run_dir.name
        for p in ("v0", "v1")
    }
    assert names == {"google-gemma-3-12b-pt_v0_spectrum", "google-gemma-3-12b-pt_v1_spectrum"}


def test_accelerate_configs_parse() -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    configs = REPO / "tuning" / "configs"
    zero3 = load_config_from_file(str(configs / "zero3_offload.yaml"))
    assert zero3.distributed_type == "DEEPSPEED" and zero3.num_processes == 4
    ds = json.loads((REPO / zero3.deepspeed_config["deepspeed_config_file"]).read_text())
    zero = ds["zero_optimization"]
    assert (
        zero["stage"] == 3 and zero["offload_param"]["device"] == zero["offload_optimizer"]["device"] == "cpu"
    )
    assert zero["offload_param"]["pin_memory"] and zero["overlap_comm"] and zero["contiguous_gradients"]
    assert zero["allgather_bucket_size"] == zero["reduce_bucket_size"] == 5e8
    assert zero["stage3_gather_16bit_weights_on_model_save"] and ds["gradient_accumulation_steps"] == "auto"
    assert load_config_from_file(str(configs / "fsdp.yaml")).distributed_type == "FSDP"
    assert load_config_from_file(str(configs / "single_gpu.yaml")).num_processes == 1


# ---------------------------------------------------------------------------------------------------
# Bad input: a clear error before any training starts


def test_a_malformed_option_is_argparse_usage_error(capsys: pytest.CaptureFixture) -> None:
    # argparse reads -1e-5 as an option (--learning-rate=-1e-5 gets through to the range check)
    with pytest.raises(SystemExit) as info:
        run_main(["--learning-rate", "-1e-5"])
    assert info.value.code == 2 and "expected one argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "no-such-org/no-such-model-xyz"], "no-such-org/no-such-model-xyz"),
        (["--family", "gemma"], "no usable turn tokens for family 'gemma'"),
        (["--configs", "flight"], "held out"),
        (["--configs", "babynames"], "every task was skipped"),
        (["--max-length", "3"], "max_length=3 is too short"),
        (["--max-steps", "0"], "--max_steps must be -1"),
        (["--learning-rate=-1e-5"], "--learning_rate must be a positive number"),
        (["--num_train_epochs", "0"], "--num_train_epochs must be a positive number"),
        (["--eval-max-instances", "-1"], "--eval_max_instances must be an integer of at least 1"),
        (["--epochs", "1"], "not used by the HfArgumentParser: ['--epochs', '1']"),  # TRL's names only
        (
            ["--validation-fraction", "1"],
            "--validation_fraction must be a number of at least 0.0 and below 1.0",
        ),
    ],
)
def test_bad_input_fails_before_training(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture, extra: list[str], message: str
) -> None:
    argv = ["--model", str(tiny), *TINY_ARGS, "--output-root", str(tmp_path), "--no-eval", *extra]
    assert run_main(argv) == 2
    err = capsys.readouterr().err
    assert "error:" in err and message in err
    assert not list(tmp_path.rglob("checkpoint-*")) and not list(tmp_path.rglob("*.safetensors"))


# ---------------------------------------------------------------------------------------------------
# Training internals


def _trainer(tiny: Path, tmp_path: Path, packing: bool):
    from trl import SFTConfig, SFTTrainer

    from tuning.loading import load_model_and_tokenizer

    model, tok = load_model_and_tokenizer(str(tiny), dtype="float32", device="cpu")
    episodes, _ = load_episodes(["coinflip"])
    data = build_train_dataset(episodes, Format("spectrum", tok), max_length=64, max_episodes=6)
    rows = pack(data.dataset, 64)[0] if packing else data.dataset.select_columns(["input_ids", "labels"])
    args = SFTConfig(output_dir=str(tmp_path), per_device_train_batch_size=3, max_length=None, padding_free=packing,
                     report_to=[], use_cpu=True, activation_checkpointing=False, bf16=False)  # fmt: skip
    model.train()
    return SFTTrainer(model=model, args=args, train_dataset=rows, processing_class=tok), data


@pytest.mark.parametrize("packing", [False, True])
def test_loss_only_on_scored_spans(tiny: Path, tmp_path: Path, packing: bool) -> None:
    trainer, data = _trainer(tiny, tmp_path, packing)
    batch = next(iter(trainer.get_train_dataloader()))
    labels = batch["labels"]
    # Every labelled token is one of our scored tokens, and each of our episodes' labels survives intact.
    ours = sorted(tuple(lab) for lab in data.dataset["labels"])
    assert int((labels != -100).sum()) > 0
    if not packing:
        got = sorted(
            tuple(row[row_mask].tolist())
            for row, row_mask in zip(labels, batch["attention_mask"].bool(), strict=True)
        )
        assert set(got) <= set(ours)
    with torch.no_grad():
        loss = trainer.compute_loss(trainer.model, dict(batch)).item()
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        logits = trainer.model(**inputs, use_cache=False).logits
    logp = torch.log_softmax(logits[:, :-1].float(), -1)
    target = labels[:, 1:]
    mask = target != -100
    picked = logp.gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    scored_only = -(picked[mask]).mean().item()
    everything = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]), batch["input_ids"][:, 1:].reshape(-1)
    ).item()
    assert loss == pytest.approx(scored_only, rel=1e-4)
    assert abs(loss - everything) > 1e-3  # the unscored tokens really are left out


def test_packing_probe_accepts_sdpa_and_eager(tiny: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny)
    for kernel in ("sdpa", "eager"):
        model.set_attn_implementation(kernel)
        ok, why = packing_supported(model)
        assert ok, why


def test_push_to_hub_is_one_upload_without_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import HfApi

    calls: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        HfApi, "create_repo", lambda self, repo_id, **kw: calls.append(("create", {"repo_id": repo_id, **kw}))
    )
    monkeypatch.setattr(
        HfApi, "upload_folder", lambda self, **kw: calls.append(("upload", kw)) or "https://hub/commit/1"
    )
    assert outputs.push_to_hub(tmp_path, "org/name", private=True) == "https://hub/commit/1"
    assert [c[0] for c in calls] == ["create", "upload"]
    upload = calls[1][1]
    assert upload["repo_id"] == "org/name" and upload["folder_path"] == str(tmp_path)
    assert "checkpoint-*" in upload["ignore_patterns"] and calls[0][1]["private"] is True


# ---------------------------------------------------------------------------------------------------
# End to end


def test_cli_end_to_end_outputs(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import HfApi

    uploads: list[dict] = []
    monkeypatch.setattr(HfApi, "create_repo", lambda self, repo_id, **kw: None)
    monkeypatch.setattr(
        HfApi, "upload_folder", lambda self, **kw: uploads.append(kw) or "https://hub/commit/2"
    )
    argv = ["--model", str(tiny), *TINY_ARGS, "--configs", "coinflip", "babynames", "--output-root", str(tmp_path),
            "--save-steps", "2", "--eval-configs", "urn", "rng_1_10", "--eval-max-instances", "2", "--eval-num-generations",
            "2", "--eval-settings", "both", "--start-kind", "instruct", "--push-to-hub", "--hub-model-id", "org/tiny"]  # fmt: skip
    assert run_main(argv) == 0
    out = tmp_path / "tiny-chatml_quick_spectrum"
    assert (out / "model.safetensors").is_file() and (out / "config.json").is_file()
    tok_config = json.loads((out / "tokenizer_config.json").read_text())
    saved_template = tok_config.get("chat_template") or (out / "chat_template.jinja").read_text()
    assert saved_template == chat_template("chatml", build_tokenizer("chatml"))
    gen = json.loads((out / "generation_config.json").read_text())
    assert gen["temperature"] == 1.0 and gen["top_k"] == 0 and gen["top_p"] == 1.0 and gen["do_sample"]
    assert list((out / "logs").glob("events.out.tfevents.*"))
    mix = json.loads((out / "train_data.json").read_text())
    assert mix["skipped"] == {"babynames": "unavailable here (source files missing)"}
    assert mix["tasks"]["coinflip"]["labelled_tokens"] > 0
    card = (out / "README.md").read_text()
    for needle in ("base model", "babynames", "learning_rate", "held-out", "| start (chat) |",
                   "| start (spectrum) |", "| tuned (spectrum) |", "| change vs start (chat) |"):  # fmt: skip
        assert needle.lower() in card.lower()
    assert (out / "before_after.md").read_text().strip() in card
    chosen = "start model: an instruct model, scored in the chat format (--start_kind instruct given)"
    assert chosen in card and chosen in (out / "eval" / "comparison.md").read_text()
    recorded = {"kind": "instruct", "format": "chat", "reason": "--start_kind instruct given"}
    assert json.loads((out / "run_args.json").read_text())["start_arm"] == recorded
    from huggingface_hub import ModelCard

    meta = ModelCard(card).data  # the metadata parses as the Hub's model card, model-index included
    assert meta.model_name == out.name and meta.base_model is None  # a local base has no Hub link
    result = next(r for r in meta.eval_results if r.metric_type == "js_divergence")
    summary = json.loads((out / "before_after.json").read_text())
    assert summary["start_arm"] == recorded
    assert list(summary["arms"]) == ["start (chat)", "start (spectrum)", "tuned (spectrum)"]
    tuned = summary["arms"]["tuned (spectrum)"]
    assert result.metric_type == "js_divergence" and result.metric_value == pytest.approx(
        tuned["headline"]["align/js_divergence"]
    )
    assert "arxiv:2510.06084" in meta.tags and "- transformers:" in card
    for arm in summary["arms"].values():  # each arm as tuning.eval writes a run: results, report and plots
        assert {"results.json", "report.md", "align_js_hist.png"} <= {
            p.name for p in (out / arm["folder"]).iterdir()
        }
        assert EvalResults.load(out / arm["folder"] / "results.json").format == arm["format"]
    assert set(summary["verdicts"]) == {
        "tuned (spectrum) vs start (chat)",
        "tuned (spectrum) vs start (spectrum)",
    }
    js = summary["verdicts"]["tuned (spectrum) vs start (spectrum)"]["js_divergence"]
    assert sum(js.values()) == 1  # one alignment task: urn
    comparison = (out / "eval" / "comparison.md").read_text()
    assert (
        "## Better, no detectable difference, worse against start (chat)" in comparison
        and "| urn |" in comparison
    )
    # Each arm sampled with its own generation config: the start model transformers' 50, the tuned model none;
    # the comparison says so and does not call it another protocol.
    assert "start (chat) top-k 50 (its generation config), temperature 1, top-p 1" in comparison
    assert "tuned (spectrum) top-k none (its generation config)" in comparison
    assert "top-k applied" not in comparison
    assert (out / "train_loss.png").stat().st_size > 0
    assert uploads and uploads[0]["repo_id"] == "org/tiny"
    checkpoints = folder.complete_checkpoints(out)
    assert (
        checkpoints and json.loads((checkpoints[-1] / "trainer_state.json").read_text())["global_step"] == 4
    )
    # A second run into the same folder refuses to clobber the checkpoints.
    assert run_main(argv[:-3] + ["--no-eval"]) == 2


def _launch(tiny: Path, root: Path, *extra: str) -> subprocess.Popen:
    argv = [sys.executable, "-m", "tuning.run", "--model", str(tiny), "--configs", "coinflip",
            "--max-train-episodes", "64", "--max-length", "256", "--effective-batch", "1", "--packing", "false",
            "--max-steps", "40", "--save-steps", "2", "--output-root", str(root), "--run-name", "r", "--no-eval",
            *extra]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _state(run_dir: Path) -> dict:
    return json.loads((folder.complete_checkpoints(run_dir)[-1] / "trainer_state.json").read_text())


def test_killed_run_resumes_to_the_same_step(tmp_path: Path) -> None:
    tiny = _save_tiny(tmp_path / "slow-tiny", hidden=128)
    whole = _launch(tiny, tmp_path / "whole")
    assert whole.wait(timeout=300) == 0, whole.stdout.read()
    target = _state(tmp_path / "whole" / "r")
    assert target["global_step"] == 40

    victim = _launch(tiny, tmp_path / "cut")
    run_dir = tmp_path / "cut" / "r"
    deadline = time.time() + 240
    while time.time() < deadline and not folder.complete_checkpoints(run_dir) and victim.poll() is None:
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    saved = folder.complete_checkpoints(run_dir)
    assert saved, "no checkpoint was written before the kill"
    step_at_kill = _state(run_dir)["global_step"]
    assert step_at_kill < 40, "the run finished before it could be killed"

    resumed = _launch(tiny, tmp_path / "cut", "--resume")
    log = resumed.communicate(timeout=300)[0]
    assert resumed.returncode == 0, log
    final = _state(run_dir)
    assert final["global_step"] == target["global_step"] == 40
    assert f"checkpoint-{step_at_kill}" in log or json.loads((run_dir / "run_args.json").read_text())[
        "train_result"]["resumed from"] == f"checkpoint-{step_at_kill}"  # fmt: skip
    losses = {e["step"]: e["loss"] for e in final["log_history"] if "loss" in e}
    expected = {e["step"]: e["loss"] for e in target["log_history"] if "loss" in e}
    assert losses.keys() >= {s for s in expected if s > step_at_kill}
    for step in (s for s in expected if s > step_at_kill):
        assert losses[step] == pytest.approx(expected[step], rel=1e-3)


def test_lora_run_saves_adapter_and_merged_weights(tiny: Path, tmp_path: Path) -> None:
    argv = ["--model", str(tiny), *TINY_ARGS, "--use-peft", "--lora-r", "4", "--lora-alpha", "20", "--output-root",
            str(tmp_path), "--no-eval"]  # fmt: skip
    assert run_main(argv) == 0
    out = tmp_path / "tiny-chatml_quick_spectrum_lora_r4"
    adapter = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter["r"] == 4 and adapter["lora_alpha"] == 20
    assert set(adapter["target_modules"]) == {"q_proj", "v_proj", "embed_tokens"}
    merged = AutoModelForCausalLM.from_pretrained(out)
    base = AutoModelForCausalLM.from_pretrained(tiny)
    assert not any("lora" in name for name, _ in merged.named_parameters())
    q = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(merged.state_dict()[q], base.state_dict()[q])  # the adapter was merged in
    k = "model.layers.0.self_attn.k_proj.weight"
    assert torch.equal(merged.state_dict()[k], base.state_dict()[k])  # untargeted modules are unchanged


# ---------------------------------------------------------------------------------------------------
# Nothing a user wrote is ever removed


def _finished_run(tiny: Path, root: Path, name: str = "r") -> Path:
    argv = ["--model", str(tiny), *TINY_ARGS, "--output-root", str(root), "--run-name", name, "--no-eval"]
    assert run_main(argv) == 0
    return root / name


@pytest.mark.parametrize("name", ["..", "/", ".", "a/b", "~"])
def test_a_run_name_must_be_one_plain_folder_name(
    tmp_path: Path, capsys: pytest.CaptureFixture, name: str
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "precious.txt").write_text("keep me")
    argv = ["--output-root", str(root), "--run-name", name, "--overwrite", "--no-eval"]
    assert run_main(argv) == 2
    assert "--run_name must be one plain folder name" in capsys.readouterr().err
    assert (tmp_path / "precious.txt").read_text() == "keep me" and root.is_dir()


def test_a_folder_tuning_run_did_not_make_is_never_written_or_replaced(
    tiny: Path, tmp_path: Path, capsys
) -> None:
    theirs = tmp_path / "root" / "theirs"
    theirs.mkdir(parents=True)
    (theirs / "thesis.tex").write_text("years of work")
    argv = ["--model", str(tiny), *TINY_ARGS, "--output-root", str(tmp_path / "root"), "--run-name", "theirs"]
    for extra in ([], ["--overwrite"], ["--resume"]):
        assert run_main([*argv, *extra, "--no-eval"]) == 2
        assert "tuning.run did not write" in capsys.readouterr().err
    assert (theirs / "thesis.tex").read_text() == "years of work" and len(list(theirs.iterdir())) == 1


def test_overwrite_keeps_the_old_run_until_the_new_one_has_succeeded(tiny: Path, tmp_path: Path) -> None:
    run_dir = _finished_run(tiny, tmp_path)
    weights = (run_dir / "model.safetensors").read_bytes()
    bad = ["--model", str(tmp_path / "typo"), *TINY_ARGS, "--output-root", str(tmp_path), "--run-name", "r"]
    assert run_main([*bad, "--overwrite", "--no-eval"]) == 2  # a typo in --model: nothing is touched
    assert (run_dir / "model.safetensors").read_bytes() == weights
    good = [
        "--model",
        str(tiny),
        *TINY_ARGS,
        "--output-root",
        str(tmp_path),
        "--run-name",
        "r",
        "--seed",
        "7",
    ]
    assert run_main([*good, "--overwrite", "--no-eval"]) == 0
    assert (run_dir / "model.safetensors").read_bytes() != weights  # replaced by the new run
    assert not list(tmp_path.glob(".r.replaced-*"))  # the old one was removed only now


def test_a_failing_overwrite_puts_the_old_run_back(tiny: Path, tmp_path: Path, monkeypatch) -> None:
    from tuning.run import trainer

    run_dir = _finished_run(tiny, tmp_path)
    weights = (run_dir / "model.safetensors").read_bytes()

    def crash(*args, **kwargs):
        raise RuntimeError("the GPU fell over")

    monkeypatch.setattr(trainer, "fit", crash)
    argv = [
        "--model",
        str(tiny),
        *TINY_ARGS,
        "--output-root",
        str(tmp_path),
        "--run-name",
        "r",
        "--overwrite",
    ]
    with pytest.raises(RuntimeError, match="fell over"):
        run_main([*argv, "--no-eval"])
    assert (run_dir / "model.safetensors").read_bytes() == weights
    assert not list(tmp_path.glob(".r.replaced-*"))


def test_resuming_a_finished_run_does_not_train_past_max_steps(tiny: Path, tmp_path: Path) -> None:
    argv = ["--model", str(tiny), *TINY_ARGS, "--max-steps", "4", "--save-steps", "2", "--output-root", str(tmp_path),
            "--run-name", "r", "--no-eval"]  # fmt: skip
    assert run_main(argv) == 0
    assert run_main([*argv, "--resume"]) == 0
    assert _state(tmp_path / "r")["global_step"] == 4


def test_eval_output_that_is_a_file_is_refused_before_the_model_loads(tmp_path: Path, capsys) -> None:
    from tuning.eval import main as eval_main

    target = tmp_path / "results"
    target.write_text("not a folder")
    started = time.perf_counter()
    assert eval_main(["--model", "smollm2-135m-instruct", "--format", "spectrum", "--out", str(target)]) == 2
    assert "is a file" in capsys.readouterr().err and time.perf_counter() - started < 5


def test_compare_names_a_corrupt_results_file(tmp_path: Path, capsys) -> None:
    from tuning.eval import main as eval_main

    for name, text in (("a", "{truncated"), ("b", '{"model": "x"}')):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(text)
        assert eval_main(["compare", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert str(tmp_path / name / "results.json") in err and "Traceback" not in err
