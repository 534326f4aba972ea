"""The tuning train set: spectrum tokenisation, truncation, filtering, counts and packing."""

from __future__ import annotations

import datasets
import pytest

from spectrum_suite.formats import Format, tokenize
from spectrum_suite.formats.tokenize import CachedEncoder
from tests.tokenizer_fixtures import make_tokenizer
from tuning.run.data import TrainDataError, build_train_dataset, load_episodes, tokenize_episode
from tuning.run.packing import pack


def _episode(n: int, described: bool = True, value: str = "Heads") -> list[dict]:
    msgs = [{"role": "description", "content": "A fair coin.", "example_ind": -1}] if described else []
    for j in range(n):
        msgs.append({"role": "output", "content": f"{value} {j}", "example_ind": j})
    return msgs


def _rows(*episodes: tuple[str, list[dict]]) -> datasets.Dataset:
    return datasets.Dataset.from_list([{"task": task, "messages": msgs} for task, msgs in episodes])


@pytest.mark.parametrize("family", ["chatml", "gemma", "llama3", "plain"])
@pytest.mark.parametrize("max_length", [7, 40, 113, 5000])
def test_prefix_tokenisation_equals_full_tokenisation(family: str, max_length: int) -> None:
    tok = make_tokenizer(family)
    for messages in (_episode(60), _episode(60, described=False), _episode(2)):
        mine = tokenize_episode(messages, Format("spectrum", tok, family), max_length)
        full = tokenize(messages, "spectrum", tok, family=family)
        assert mine["input_ids"] == full["input_ids"][:max_length]
        assert mine["labels"] == full["labels"][:max_length]
        assert mine["truncated"] == (len(full["input_ids"]) > max_length)
        assert mine["n_labels"] == sum(lab != -100 for lab in full["labels"][:max_length])


def test_cached_encoder_matches_the_tokenizer() -> None:
    tok = make_tokenizer("chatml")
    enc = CachedEncoder(tok)
    texts = ["<|im_start|>output\n", "Heads<|im_end|>", "\n", "Heads<|im_end|>", ""]
    assert (
        enc(texts, add_special_tokens=False)["input_ids"] == tok(texts, add_special_tokens=False)["input_ids"]
    )
    assert enc("a b")["input_ids"] == tok("a b")["input_ids"]
    assert enc.eos_token_id == tok.eos_token_id


def test_drop_partial_outputs_unlabels_only_the_cut_output() -> None:
    tok = make_tokenizer("chatml")
    messages = _episode(8, value="The quick brown fox jumps over the lazy dog")
    full = tokenize(messages, "spectrum", tok)
    spans = sorted({j for j in full["output_index"] if j >= 0})
    second = [k for k, j in enumerate(full["output_index"]) if j == spans[1]]
    cut = second[0] + 3  # inside the second output's scored span
    kept = tokenize_episode(messages, Format("spectrum", tok), cut)
    dropped = tokenize_episode(messages, Format("spectrum", tok), cut, drop_partial_outputs=True)
    assert kept["labels"][second[0] : cut] == full["labels"][second[0] : cut]
    assert all(lab == -100 for lab in dropped["labels"][second[0] : cut])
    assert dropped["labels"][: second[0]] == kept["labels"][: second[0]]
    assert dropped["partial_unlabelled"] and not kept["partial_unlabelled"]
    assert dropped["n_labels"] == kept["n_labels"] - 3


def test_build_counts_per_task_and_drops_label_free_episodes() -> None:
    tok = make_tokenizer("chatml")
    rows = _rows(
        ("coinflip", _episode(5)),
        ("coinflip", _episode(1, described=False)),  # first output unscored: nothing to learn
        ("cards", _episode(40, described=False)),
    )
    data = build_train_dataset(
        rows, Format("spectrum", tok), max_length=64, configs=["train"], skipped={"polis_vote": "missing"}
    )
    assert len(data.dataset) == 2
    assert data.counts["coinflip"].episodes == 2 and data.counts["coinflip"].dropped_no_labels == 1
    assert data.counts["cards"].truncated == 1
    assert all(len(ids) <= 64 for ids in data.dataset["input_ids"])
    summary = data.summary()
    assert summary["skipped"] == {"polis_vote": "missing"}
    assert summary["labelled_tokens"] == sum(
        sum(lab != -100 for lab in labs) for labs in data.dataset["labels"]
    )
    shares = [t["labelled_token_share"] for t in summary["tasks"].values()]
    assert sum(shares) == pytest.approx(1.0)
    assert "| coinflip | 2 | 1 | 1 |" in data.table()


def test_max_episodes_takes_a_seeded_subset() -> None:
    tok = make_tokenizer("chatml")
    rows = _rows(*[("coinflip", _episode(3 + i)) for i in range(10)])
    a = build_train_dataset(rows, Format("spectrum", tok), max_length=256, max_episodes=4)
    b = build_train_dataset(rows, Format("spectrum", tok), max_length=256, max_episodes=4)
    assert len(a.dataset) == 4 and a.dataset["input_ids"] == b.dataset["input_ids"]


def test_errors_empty_and_too_short() -> None:
    tok = make_tokenizer("chatml")
    with pytest.raises(TrainDataError, match="empty"):
        build_train_dataset(
            _rows(("coinflip", _episode(2))).select([]), Format("spectrum", tok), configs=["train"]
        )
    with pytest.raises(TrainDataError, match=r"max_length=4 is too short .* needs \d+ tokens"):
        build_train_dataset(_rows(("coinflip", _episode(3))), Format("spectrum", tok), max_length=4)
    with pytest.raises(TrainDataError, match="has a scored output"):
        build_train_dataset(
            _rows(("coinflip", _episode(1, described=False))), Format("spectrum", tok), max_length=64
        )
    with pytest.raises(ValueError, match="turn tokens"):
        build_train_dataset(_rows(("coinflip", _episode(3))), Format("spectrum", tok, family="gemma"))


def test_load_episodes_records_skipped_tasks() -> None:
    episodes, skipped = load_episodes(["coinflip", "babynames"], skip_unavailable=True)
    assert set(episodes.unique("task")) == {"coinflip"}
    assert "babynames" in skipped and "unavailable" in skipped["babynames"]
    with pytest.raises(TrainDataError, match="held out"):
        load_episodes(["flight"])
    with pytest.raises(TrainDataError, match="every task was skipped"):
        load_episodes(["babynames"], skip_unavailable=True)
    with pytest.raises(TrainDataError, match="babynames"):
        load_episodes(["babynames"], skip_unavailable=False)


def test_pack_keeps_every_token_and_episode_boundaries() -> None:
    tok = make_tokenizer("chatml")
    rows = _rows(*[("coinflip", _episode(2 + i % 7)) for i in range(30)])
    data = build_train_dataset(rows, Format("spectrum", tok), max_length=96)
    packed, stats = pack(data.dataset, 96)
    lengths = [len(ids) for ids in data.dataset["input_ids"]]
    assert stats.tokens == sum(lengths) == sum(len(ids) for ids in packed["input_ids"])
    assert stats.rows == len(packed) < len(lengths)
    assert all(
        len(ids) <= 96 and sum(sl) == len(ids)
        for ids, sl in zip(packed["input_ids"], packed["seq_lengths"], strict=True)
    )
    assert sorted(x for sl in packed["seq_lengths"] for x in sl) == sorted(lengths)
    assert sum(sum(lab != -100 for lab in labs) for labs in packed["labels"]) == data.labelled_tokens
    with pytest.raises(TrainDataError, match="more than max_length"):
        pack(data.dataset, 16)
