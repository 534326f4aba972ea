"""`tuning.lm.LM`: teacher-forced output scores, prefix-shared candidates, sampling, batching; k selection.

Tiny randomly initialised Llama models with the test tokenizers of `tests/tokenizer_fixtures.py` keep these fast;
every score is checked against a plain computation done here, position by position.
"""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from bench.baselines import full_candidate_scores, full_candidate_scores_of  # noqa: E402
from spectrum_suite.formats import prompt_text, tokenize  # noqa: E402
from spectrum_suite.selection import KSelectionError, choose_k, max_complete_index, select_k  # noqa: E402
from tests.tokenizer_fixtures import make_tokenizer  # noqa: E402
from tuning.eval.coverage import sampling_stop_strings  # noqa: E402
from tuning.lm import LM, derived_seed, in_batches  # noqa: E402
from tuning.sequences import EncodedEpisode, TooLongError, cut_after, encode_candidates, scored_spans  # noqa: E402

EPISODE = [
    {"role": "description", "content": "A fair coin is flipped; heads or tails.", "example_ind": -1},
    {"role": "input", "content": "Flight 1: 3 stops", "example_ind": 0},
    {"role": "output", "content": "heads", "example_ind": 0},
    {"role": "input", "content": "Flight 2: nonstop", "example_ind": 1},
    {"role": "output", "content": "tails", "example_ind": 1},
    {"role": "input", "content": "Flight 1: 2 hours", "example_ind": 2},
    {"role": "output", "content": "7 3 10", "example_ind": 2},
]


def tiny_model(tokenizer, seed: int = 0, context: int = 2048):
    """A 2-layer Llama with random weights over the tokenizer's vocabulary."""
    torch.manual_seed(seed)
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=context,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return transformers.LlamaForCausalLM(config).eval()


@pytest.fixture(scope="module")
def chatml():
    tok = make_tokenizer("chatml")
    return tok, tiny_model(tok)


def _episode(tok, messages=EPISODE, fmt="spectrum", episode=0) -> EncodedEpisode:
    enc = tokenize(messages, fmt, tok)
    return EncodedEpisode(enc["input_ids"], enc["labels"], enc["output_index"], episode=episode)


# --- teacher-forced output scoring ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["spectrum", "colon", "chat"])
def test_output_logprobs_equal_manual_per_position(chatml, fmt):
    tok, model = chatml
    short = EPISODE[:5]
    eps = [_episode(tok, EPISODE, fmt, 0), _episode(tok, short, fmt, 1)]
    records = LM(model, tok, progress=False).score_outputs(eps, batch_size=2)
    expected_outputs = sum(len(scored_spans(e)) for e in eps)
    assert len(records) == expected_outputs and expected_outputs >= 3
    for rec in records:
        ep = eps[rec.episode]
        span = scored_spans(ep)[rec.example_ind]
        with torch.no_grad():
            logits = model(torch.tensor([ep.input_ids])).logits[0]
        logp = torch.log_softmax(logits.double(), dim=-1)
        manual = [float(logp[p - 1, ep.input_ids[p]]) for p in span.positions]
        assert rec.token_logprobs == pytest.approx(manual, abs=1e-4)
        assert rec.token_correct == [int(logp[p - 1].argmax() == ep.input_ids[p]) for p in span.positions]
        assert rec.loss == pytest.approx(-sum(manual), abs=1e-4)
        others = [
            float(v)
            for p in span.positions
            for t, v in enumerate(logp[p - 1])
            if t != ep.input_ids[p] and v > math.log(0.01)
        ]
        assert sorted(rec.incorrect_logprobs) == pytest.approx(sorted(others), abs=1e-4)


def test_scoring_is_the_same_alone_and_in_a_padded_batch(chatml):
    tok, model = chatml
    eps = [_episode(tok, EPISODE, episode=0), _episode(tok, EPISODE[:3] + EPISODE[4:5], episode=1)]
    lm = LM(model, tok, progress=False)
    together = lm.score_outputs(eps, batch_size=2)
    alone = [r for e in eps for r in lm.score_outputs([e])]
    assert len(together) == len(alone) == 5
    for a, b in zip(together, alone, strict=True):
        assert (a.episode, a.example_ind) == (b.episode, b.example_ind)
        assert a.token_logprobs == pytest.approx(b.token_logprobs, abs=1e-4)


def test_scored_spans_rank_outputs_and_skip_unscored_first_output(chatml):
    tok, _ = chatml
    no_description = [m for m in EPISODE if m["role"] != "description"]
    spans = scored_spans(_episode(tok, no_description))
    # spectrum without a description: sample 0 is unscored, so ranks 0, 1 are samples 1, 2
    assert [(s.example_ind, s.sample_index) for s in spans] == [(0, 1), (1, 2)]
    spans_colon = scored_spans(_episode(tok, no_description, "colon"))
    assert [(s.example_ind, s.sample_index) for s in spans_colon] == [(0, 0), (1, 1), (2, 2)]


def test_scored_token_without_an_output_is_an_error():
    ep = EncodedEpisode([1, 2, 3], [-100, 2, 3], [-1, -1, 0], episode=7)
    with pytest.raises(ValueError, match="episode 7: token 1 is scored but belongs to no output"):
        scored_spans(ep)


def test_cut_after_keeps_outputs_zero_to_k(chatml):
    tok, _ = chatml
    ep = _episode(tok)
    spans = scored_spans(ep)
    cut = cut_after(ep, 1)
    assert len(cut.input_ids) == spans[1].positions[-1] + 1
    assert [s.example_ind for s in scored_spans(cut)] == [0, 1]
    assert cut_after(ep, 3) is None


# --- k selection ------------------------------------------------------------------------------------


def test_select_k_maximises_scored_positions_and_prefers_small_k_on_ties():
    # k=2: 2*3=6, k=3: 3*2=6, k=4: 4*1=4 -> tie between 2 and 3, smallest wins
    sel = select_k([4, 3, 2, None, 1])
    assert sel.k == 2 and sel.keep == [0, 1, 2]
    assert select_k([5, 5, 5, 1]).k == 5


def test_k_one_is_raised_to_two_and_keep_is_recomputed():
    max_inds = [1] * 30 + [2] * 10  # k=1 scores 40, k=2 scores 20
    sel = select_k(max_inds)
    assert sel.k == 2
    assert sel.keep == list(range(30, 40))  # recomputed for k=2: not the 40 episodes kept for k=1
    with pytest.raises(KSelectionError, match="only 9 episodes"):
        select_k([1] * 30 + [2] * 9)
    with pytest.raises(KSelectionError, match="Not enough examples"):
        select_k([0, None, 0])


def test_window_cut_inside_an_output_drops_it_but_an_exact_fit_does_not(chatml):
    tok, _ = chatml
    ep = _episode(tok)
    spans = scored_spans(ep)
    end_of_1 = spans[1].positions[-1] + 1
    assert max_complete_index(ep, window=end_of_1) == 1  # output 1 ends exactly at the edge
    assert max_complete_index(ep, window=end_of_1 - 1) == 0  # cut mid-output 1
    assert max_complete_index(ep, window=spans[0].positions[0]) is None  # nothing scored yet


def test_choose_k_with_a_fixed_k_keeps_episodes_that_reach_it(chatml):
    tok, _ = chatml
    eps = [_episode(tok, EPISODE, episode=0), _episode(tok, EPISODE[:5], episode=1)]
    sel = choose_k(eps, fixed_k=2)
    assert sel.k == 2 and sel.keep == [0]


# --- candidate scoring ------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["chatml", "gemma", "llama3"])
def test_prefix_shared_candidates_equal_full_recomputation(family):
    tok = make_tokenizer(family)
    model = tiny_model(tok, seed=1)
    messages = [
        {"role": "description", "content": "Car make and model."},
        {"role": "input", "content": "Flight 1:"},
    ]
    prompt = prompt_text(messages, "spectrum", tok)
    cands = ["Acura Integra", "Ford", "Tesla Model 3 Toyota Corolla", "7", "heads or tails"]
    tokens = encode_candidates(tok, prompt, cands)
    assert tokens.boundary_merges == 0
    for cand, ids in zip(cands, tokens.candidate_ids, strict=True):
        assert tokens.prompt_ids + ids == tok(prompt + cand)["input_ids"]
    lm = LM(model, tok, progress=False)
    (shared,) = lm.score_candidates([tokens], batch_size=2)
    full = full_candidate_scores_of(lm, tokens.prompt_ids, tokens.candidate_ids, batch_size=3)
    assert shared == pytest.approx(full, abs=1e-4)
    assert all(s < 0 for s in shared)


def test_many_rows_scored_together_equal_the_pairwise_baseline(chatml):
    tok, model = chatml
    rows = [
        ("Description: Car make and model.\n\nOutput:", [" Ford", " Acura Integra", " Tesla"]),
        ("Input: Draw a number", [tok.decode([300]), tok.decode([301])]),
        (
            "Input: Flight 1: 3 stops, 2 hours, $420. Which flight do you prefer?\n\nOutput:",
            [" 1", " 2", " 3"],
        ),
    ]
    items = [encode_candidates(tok, prompt, cands) for prompt, cands in rows]
    lm = LM(model, tok, progress=False)
    shared = lm.score_candidates(items, batch_size=2)
    full = full_candidate_scores(lm, items, batch_size=3)
    one_by_one = [full_candidate_scores_of(lm, t.prompt_ids, t.candidate_ids) for t in items]
    assert [len(s) for s in shared] == [3, 2, 3]
    for a, b, c in zip(shared, full, one_by_one, strict=True):
        assert a == pytest.approx(b, abs=1e-4) and a == pytest.approx(c, abs=1e-4)


def test_single_token_candidates_come_from_one_forward(chatml):
    tok, model = chatml
    prompt = prompt_text([{"role": "input", "content": "Draw a number"}], "spectrum", tok)
    cands = [tok.decode([i]) for i in (300, 301, 302, 303)]
    tokens = encode_candidates(tok, prompt, cands)
    assert all(len(c) == 1 for c in tokens.candidate_ids)
    lm = LM(model, tok, progress=False)
    calls = []
    hook = model.register_forward_hook(lambda *_: calls.append(1))
    try:
        (shared,) = lm.score_candidates([tokens])
    finally:
        hook.remove()
    assert len(calls) == 1
    full = full_candidate_scores_of(lm, tokens.prompt_ids, tokens.candidate_ids)
    assert shared == pytest.approx(full, abs=1e-4)


def test_boundary_merge_falls_back_to_the_candidate_alone_and_is_counted(chatml):
    tok, _ = chatml
    tokens = encode_candidates(tok, "Description: Out", ["put", " red"])
    assert tokens.boundary_merges >= 1
    assert tokens.candidate_ids[0] == tok("put", add_special_tokens=False)["input_ids"]


def test_candidates_longer_than_the_context_are_refused_not_truncated(chatml):
    tok, _ = chatml
    tokens = encode_candidates(tok, "Description: Car make and model.", ["Acura Integra", "Ford"])
    tokens.check_fits(len(tokens.prompt_ids) + max(map(len, tokens.candidate_ids)))
    with pytest.raises(TooLongError, match="context is"):
        tokens.check_fits(len(tokens.prompt_ids) + 1)


def test_empty_candidate_is_an_error(chatml):
    tok, _ = chatml
    with pytest.raises(ValueError, match="candidate 1 is empty"):
        encode_candidates(tok, "Output:", ["a", ""])


# --- sampling ---------------------------------------------------------------------------------------


def test_stop_strings_follow_the_spec_order(chatml):
    tok, _ = chatml
    assert sampling_stop_strings(tok) == [
        "<|eot_id|>",
        "<end_of_turn>",
        "<|im_end|>",
        "<|end_of_text|>",
        "<|endoftext|>",
        "\n",
    ]


def test_sampling_is_seeded_stops_at_stop_strings_and_cleans(chatml):
    from metrics.coverage.cleaning import clean_generation

    tok, _ = chatml
    model = tiny_model(tok, seed=3)
    newline = tok("\n", add_special_tokens=False)["input_ids"][0]
    head = torch.nn.Linear(32, len(tok), bias=True)
    with torch.no_grad():  # flat logits except a newline about 8 % of the time
        head.weight.zero_()
        head.bias.zero_()
        head.bias[newline] = 4.0
    model.lm_head = head
    ids = tok(prompt_text([{"role": "description", "content": "Car make and model."}], "spectrum", tok))[
        "input_ids"
    ]
    stops = sampling_stop_strings(tok)
    lm = LM(model, tok, progress=False)
    first = lm.sample(ids, n=6, max_new_tokens=40, seed=5, batch_size=4, stop_strings=stops, top_k=0)
    again = lm.sample(ids, n=6, max_new_tokens=40, seed=5, batch_size=4, stop_strings=stops, top_k=0)
    other = lm.sample(ids, n=6, max_new_tokens=40, seed=6, batch_size=4, stop_strings=stops, top_k=0)
    assert first == again and first != other and len(first) == 6
    stopped = [g for g in first if any(s in g for s in stops)]
    assert stopped, "at p(newline) ~ 0.08 per token, 40-token draws stop early"
    for g in stopped:
        body = g.replace(tok.pad_token, "")
        hit = min(body.find(s) for s in stops if s in body)
        assert len(tok(body[hit:])["input_ids"]) <= 2  # generation ended at the stop: nothing follows it
    cleaned = [clean_generation(g, stops) for g in first]
    assert all("\n" not in c and "<|im_end|>" not in c and c == c.strip() for c in cleaned)


def test_sampling_from_the_shared_prompt_cache_matches_plain_generate(chatml):
    tok, model = chatml
    ids = tok(prompt_text([{"role": "description", "content": "Car make and model."}], "spectrum", tok))[
        "input_ids"
    ]
    got = LM(model, tok).sample(
        ids, n=4, max_new_tokens=12, seed=11, batch_size=4, stop_strings=["\n"], top_k=0
    )
    torch.manual_seed(11)
    batch = torch.tensor([ids] * 4)
    plain = model.generate(
        input_ids=batch, attention_mask=torch.ones_like(batch), do_sample=True, temperature=1.0, top_p=1.0,
        top_k=0, max_new_tokens=12, stop_strings=["\n"], tokenizer=tok, pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    assert got == tok.batch_decode(plain[:, len(ids) :], skip_special_tokens=False)


def test_derived_seed_is_stable_and_distinct():
    assert derived_seed(42, "rng_1_10", "both") == derived_seed(42, "rng_1_10", "both")
    assert derived_seed(42, "rng_1_10", "both") != derived_seed(42, "rng_1_10", "examples")


# --- batching ---------------------------------------------------------------------------------------


def test_batches_halve_on_out_of_memory_and_keep_order():
    sizes = []

    def fn(chunk):
        sizes.append(len(chunk))
        if len(chunk) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        return [x * 10 for x in chunk]

    assert in_batches(fn, list(range(7)), 8, progress=False) == [x * 10 for x in range(7)]
    assert sizes[:3] == [7, 4, 2]


def test_other_errors_are_not_retried():
    def fn(chunk):
        raise ValueError("bad row")

    with pytest.raises(ValueError, match="bad row"):
        in_batches(fn, [1, 2, 3], 2, progress=False)
