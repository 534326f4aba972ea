"""The start arm's format in ``tuning.run`` (`tuning.run.start_kind`): the paper's baselines, colon for a base model
and chat for an instruct one, decided from the options, the name and the checkpoint's tokenizer and configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.tokenizer_fixtures import build_tokenizer
from tuning.embedded import EMBEDDED_MODEL
from tuning.run import arguments
from tuning.run.arguments import RunInputError
from tuning.run.cli import main as run_main
from tuning.run.start_kind import decide, name_kind, start_arm


def checkpoint(folder: Path, family: str, eos: dict[str, object] | None = None) -> Path:
    """A checkpoint folder without weights: the family's tokenizer and the JSON configs ``eos`` gives
    (file name -> eos_token_id, as token strings or ids)."""
    tok = build_tokenizer(family)
    tok.save_pretrained(folder)
    for name, value in (eos or {}).items():
        ids = [tok.convert_tokens_to_ids(v) if isinstance(v, str) else v for v in value]  # type: ignore[union-attr]
        (folder / name).write_text(json.dumps({"eos_token_id": ids}))
    return folder


def from_folder(folder: Path, **options: str) -> object:
    config = arguments.parse(
        ["--model", str(folder), *[x for k, v in options.items() for x in (f"--{k}", v)]]
    )
    return start_arm(config)


def test_explicit_options_decide_first(tmp_path: Path) -> None:
    base = checkpoint(tmp_path / "Qwen3-14B-Base", "chatml")
    chosen = from_folder(base, eval_start_format="chat")
    assert (chosen.kind, chosen.format, chosen.reason) == (None, "chat", "--eval_start_format chat given")
    chosen = from_folder(base, start_kind="instruct")
    assert (chosen.kind, chosen.format, chosen.reason) == ("instruct", "chat", "--start_kind instruct given")
    chosen = from_folder(base, eval_start_format="colon", start_kind="instruct")  # the format wins
    assert (chosen.kind, chosen.format) == ("instruct", "colon")
    chosen = from_folder(checkpoint(tmp_path / "gemma-3-1b-it", "gemma"), instruct_twin="x/y-it")
    assert (chosen.kind, chosen.format) == ("base", "colon") and "--instruct_twin x/y-it" in chosen.reason
    with pytest.raises(RunInputError, match="--start_kind must be one of auto, base, instruct, got 'it'"):
        decide("m", build_tokenizer, start_kind="it")


@pytest.mark.parametrize(
    ("name", "kind"),
    [("Qwen/Qwen3-14B-Base", "base"), ("google/gemma-3-12b-pt", "base"), ("google/gemma-3-12b-it", "instruct"),
     ("meta-llama/Llama-3.1-8B-Instruct", "instruct"), ("/models/Llama-2-7b-chat-hf/", "instruct"),
     (EMBEDDED_MODEL, "instruct"), ("Qwen/Qwen3-14B", None), ("meta-llama/Llama-3.1-8B", None),
     ("tiny-chatml", None), ("italian-gpt", None), ("base-instruct-merge", None), ("/instruct/runs/model", None)],
)  # fmt: skip
def test_name_markers_are_whole_words_of_the_last_part(name: str, kind: str | None) -> None:
    assert name_kind(name) == kind


def test_a_name_decides_without_reading_the_checkpoint() -> None:
    def never() -> None:
        raise AssertionError("the tokenizer was loaded although the name decides")

    chosen = decide(EMBEDDED_MODEL, never)  # the embedded default stays the instruct model it is
    assert (chosen.kind, chosen.format) == ("instruct", "chat") and "smollm2-135m-instruct" in chosen.reason
    chosen = decide("Qwen/Qwen3-14B-Base", never)  # a base model that ships a chat template
    assert (chosen.kind, chosen.format) == ("base", "colon")


@pytest.mark.parametrize("where", ["generation_config.json", "config.json"])
def test_an_end_of_turn_that_ends_sequences_marks_an_instruct_model(tmp_path: Path, where: str) -> None:
    folder = checkpoint(tmp_path / "qwen-like", "chatml", {where: ["<|im_end|>", "<|endoftext|>"]})
    chosen = from_folder(folder)
    assert (chosen.kind, chosen.format) == ("instruct", "chat")
    assert chosen.reason == f"its end-of-turn token <|im_end|> ends a sequence ({where})"


def test_the_tokenizers_own_eos_counts_and_nested_text_configs_are_read(tmp_path: Path) -> None:
    chosen = from_folder(checkpoint(tmp_path / "llama-like", "llama3"))  # EOS <|eot_id|>
    assert chosen.format == "chat" and "the tokenizer's EOS" in chosen.reason
    folder = checkpoint(tmp_path / "gemma-like", "gemma")
    tok = build_tokenizer("gemma")
    (folder / "config.json").write_text(
        json.dumps({"text_config": {"eos_token_id": [1, tok.convert_tokens_to_ids("<end_of_turn>")]}})
    )
    assert from_folder(folder).format == "chat"


def test_no_chat_template_is_a_base_model(tmp_path: Path) -> None:
    chosen = from_folder(checkpoint(tmp_path / "plain-lm", "plain"))
    assert (chosen.kind, chosen.format, chosen.reason) == (
        "base",
        "colon",
        "its tokenizer has no chat template",
    )


def test_a_base_model_with_a_chat_template_and_no_other_sign_is_refused(tmp_path: Path) -> None:
    folder = checkpoint(tmp_path / "mystery", "chatml", {"generation_config.json": ["<|endoftext|>"]})
    with pytest.raises(
        RunInputError, match="cannot tell whether the start model is a base or an instruct"
    ) as err:
        from_folder(folder)
    assert "--start_kind base or --start_kind instruct" in str(err.value) and "<|im_end|>" in str(err.value)
    assert from_folder(folder, start_kind="base").format == "colon"


def test_the_refusal_comes_before_any_weights_load(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The folder has no weights at all: a run that loaded the model first would fail on them instead."""
    folder = checkpoint(tmp_path / "mystery", "chatml", {"config.json": ["<|endoftext|>"]})
    argv = ["--model", str(folder), "--configs", "coinflip", "--output-root", str(tmp_path / "runs")]
    assert run_main(argv) == 2
    err = capsys.readouterr().err
    assert "--start_kind" in err and "--eval_start_format" in err and "could not load" not in err
    assert not (tmp_path / "runs" / "mystery_quick_spectrum").exists()
    assert run_main([*argv, "--start_kind", "base"]) == 2  # now it goes on, to the weights that are missing
    assert "could not load model" in capsys.readouterr().err
