"""The served backend (`tuning.lm.served`) against a small OpenAI-compatible server on 127.0.0.1: how it reads
prompt log-probabilities into records, samples and cuts them, retries, bounds its requests in flight, and the
errors it gives. The fake's log-probabilities come from a tiny transformers model, so the records can be held
against the transformers backend's; that both backends agree on a real engine is `tests/test_served_vllm.py`.
"""

from __future__ import annotations

import threading
import time

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tests.servers.fake_openai import Behaviour, FakeServer  # noqa: E402
from tests.test_lm import EPISODE, _episode, tiny_model  # noqa: E402
from tests.tokenizer_fixtures import make_tokenizer  # noqa: E402
from tuning.eval import main  # noqa: E402
from tuning.eval.evaluation import check_engine  # noqa: E402
from tuning.eval.steerability import metric_inputs  # noqa: E402
from tuning.lm import LM, ServedLM, ServerError  # noqa: E402
from tuning.lm.http_client import JSONClient, RetryPolicy, ServerRefusedError  # noqa: E402
from tuning.lm.served import CALIBRATION_LOGPROBS, ServedCapabilityError, generation_top_k  # noqa: E402
from tuning.sequences import encode_candidates  # noqa: E402

FAST = RetryPolicy(attempts=4, first_wait=0.01, max_wait=0.05)


@pytest.fixture(scope="module")
def tok():
    return make_tokenizer("chatml")


@pytest.fixture(scope="module")
def model(tok):
    """A tiny random model with peaked next-token distributions, so that calibration has tokens to record."""
    sharp = tiny_model(tok)
    with torch.no_grad():
        sharp.lm_head.weight.mul_(40)
    return sharp


@pytest.fixture
def fake(model):
    server = FakeServer(model)
    yield server
    server.close()


def connect(server: FakeServer, tok, **kw) -> ServedLM:
    return ServedLM.connect(server.base_url, "tiny", tokenizer=tok, progress=False, retry=FAST, **kw)


def episodes(tok):
    return [_episode(tok, EPISODE, fmt, episode=i) for i, fmt in enumerate(("spectrum", "colon", "chat"))]


def test_records_and_candidate_scores_are_the_transformers_backends(fake, tok, model):
    served, local = connect(fake, tok), LM(model, tok, progress=False)
    assert served.prompt_logprobs == CALIBRATION_LOGPROBS and served.context_length == 2048
    mine, theirs = served.score_outputs(episodes(tok)), local.score_outputs(episodes(tok))
    assert [(r.episode, r.example_ind, r.sample_index, r.token_ids) for r in mine] == [
        (r.episode, r.example_ind, r.sample_index, r.token_ids) for r in theirs
    ]
    for a, b in zip(mine, theirs, strict=True):
        assert a.token_logprobs == pytest.approx(b.token_logprobs, abs=1e-5)
        assert a.token_correct == b.token_correct
        assert a.incorrect_logprobs == pytest.approx(b.incorrect_logprobs, abs=1e-5)
    assert sum(map(len, (r.incorrect_logprobs for r in mine))) > 10  # not trivially empty
    with pytest.raises(ValueError, match="threshold of 1/101 or more"):
        served.score_outputs(episodes(tok), threshold=0.001)
    items = [
        encode_candidates(
            tok, "Flight 1: 3 stops\nOutput:", [" heads", " tails", " 7 3 10", " a longer one"]
        ),
        encode_candidates(tok, "Pick:", [" a", " b"]),
    ]
    for a, b in zip(served.score_candidates(items), local.score_candidates(items), strict=True):
        assert a == pytest.approx(b, abs=1e-5)
    info = served.describe()
    assert info["backend"] == "openai" and info["base_url"] == fake.base_url and info["model"] == "tiny"
    assert (
        info["engine"] == "fake"
        and info["engine_version"] is None
        and info["calibration"].startswith("exact")
    )


def test_one_token_candidates_run_their_prompt_once_where_the_server_allows(model, tok):
    items = [encode_candidates(tok, "Pick:", [" a", " b"]), encode_candidates(tok, "Say:", [" a longer one"])]
    assert [len(c) for c in items[0].candidate_ids] == [1, 1]
    expected = LM(model, tok, progress=False).score_candidates(items)
    for supported, one_token in ((True, "the prompt alone"), (False, "prompt + candidate")):
        server = FakeServer(model, Behaviour(gives_token_logprobs=supported))
        try:
            served = connect(server, tok)
            server.requests.clear()
            scores = served.score_candidates(items)
        finally:
            server.close()
        assert served.describe()["one_token_candidates"].startswith(one_token)
        for a, b in zip(scores, expected, strict=True):
            assert a == pytest.approx(b, abs=1e-5)
        prompts = sorted(len(r["prompt"]) for r in server.requests)
        assert prompts == ([1, 1] if supported else [1, 2])  # the multi-token row: prompt + its candidate


def test_each_request_sends_our_token_ids_and_what_the_measure_needs(fake, tok):
    served = connect(fake, tok)
    fake.requests.clear()
    episode = episodes(tok)[0]
    served.score_outputs([episode])
    (request,) = fake.requests
    assert request["prompt"] == [episode.input_ids] and request["prompt_logprobs"] == CALIBRATION_LOGPROBS
    assert request["max_tokens"] == 1 and request["model"] == "tiny"


def test_transient_failures_are_retried(fake, tok):
    served = connect(fake, tok)
    fake.behaviour.failures = [503, "reset", 429]
    fake.requests.clear()
    assert len(served.score_outputs(episodes(tok)[:1])) == 3
    assert len(fake.requests) == 4  # three failures, then the answer


def test_a_server_that_keeps_failing_ends_in_one_clear_error(fake, tok):
    served = connect(fake, tok)
    fake.behaviour.failures = [502] * 10
    with pytest.raises(ServerError, match=r"did not answer POST /v1/completions: HTTP 502.*4 tries"):
        served.score_outputs(episodes(tok)[:1])


def test_a_refused_request_carries_the_servers_reason(fake, tok):
    served = connect(fake, tok)
    fake.behaviour.failures = [422]
    with pytest.raises(ServerRefusedError, match="HTTP 422.*fake failure 422"):
        served.score_outputs(episodes(tok)[:1])


def test_a_server_that_is_gone_says_so():
    client = JSONClient("http://127.0.0.1:9/v1", retry=FAST)  # the discard port: nothing listens
    with pytest.raises(
        ServerError, match=r"http://127.0.0.1:9/v1 did not answer GET /v1/models.*still running"
    ):
        client.get("models")


def test_a_server_dying_mid_run_fails_the_run(fake, tok):
    served = connect(fake, tok, max_concurrency=2)
    fake.behaviour.delay = 0.05
    items = [encode_candidates(tok, f"Row {i}:", [" a", " b"]) for i in range(40)]

    def die_soon():
        time.sleep(0.3)
        fake.close()

    threading.Thread(target=die_soon).start()
    with pytest.raises(ServerError, match="still running"):
        served.score_candidates(items)


def test_requests_in_flight_stay_within_the_bound(fake, tok):
    served = connect(fake, tok, max_concurrency=3)
    fake.behaviour.delay = 0.1
    items = [encode_candidates(tok, f"Row {i}:", [" a", " b"]) for i in range(12)]
    fake.max_in_flight = 0
    scores = served.score_candidates(items)
    assert len(scores) == 12 and fake.max_in_flight == 3


def test_a_server_capping_logprobs_scores_without_calibration(model, tok):
    server = FakeServer(model, Behaviour(max_logprobs=20))
    try:
        served = connect(server, tok)
        records = served.score_outputs(episodes(tok)[:1])
    finally:
        server.close()
    assert served.prompt_logprobs == 0 and served.cannot_score is None
    assert all(r.incorrect_logprobs is None for r in records) and all(r.token_logprobs for r in records)
    assert metric_inputs(records, "t")["incorrect_logprobs"] is None  # no ECE rather than a wrong one
    assert "--max-logprobs 100" in served.describe()["calibration"]


def test_a_server_without_prompt_logprobs_refuses_scoring_but_samples(model, tok):
    server = FakeServer(model, Behaviour(gives_prompt_logprobs=False, sample_ids=lambda p, s, i: [5, 6]))
    try:
        served = connect(server, tok)
        with pytest.raises(ServedCapabilityError, match="no prompt log-probabilities"):
            served.score_outputs(episodes(tok)[:1])
        with pytest.raises(ValueError, match=r"configs flight, urn cannot be evaluated.*--configs coverage"):
            check_engine(served, ["flight", "urn", "coverage"])
        check_engine(served, ["coverage"])
        assert (
            served.sample([1, 2, 3], n=2, max_new_tokens=4, seed=1, stop_strings=["\n"])
            == [tok.decode([5, 6])] * 2
        )
    finally:
        server.close()


def test_samples_are_decoded_with_special_tokens_and_cut_after_the_stop_string(model, tok):
    eos = tok.eos_token_id
    line = tok("ab cd\nef gh", add_special_tokens=False)["input_ids"]
    scripts = {0: line + [eos], 1: tok("xy", add_special_tokens=False)["input_ids"] + [eos, 7, 7]}
    server = FakeServer(model, Behaviour(sample_ids=lambda p, s, i: scripts[i]))
    try:
        served = connect(server, tok)
        stops = ["<|im_end|>", "<|endoftext|>", "\n", "<end_of_turn>", "<|eot_id|>", "<|end_of_text|>"]
        out = served.sample([1, 2, 3], n=2, max_new_tokens=50, seed=7, stop_strings=stops, top_k=5)
        request = server.requests[-1]
    finally:
        server.close()
    cut = next(t for t in range(1, len(line) + 1) if "\n" in tok.decode(line[:t]))
    assert out == [tok.decode(line[:cut]), "xy<|endoftext|>"]
    assert out[0].startswith("ab cd\n") and "gh" not in out[0]
    assert request["n"] == 2 and request["seed"] == 7 and request["top_k"] == 5
    assert request["temperature"] == 1.0 and request["top_p"] == 1.0 and request["max_tokens"] == 50
    assert request["skip_special_tokens"] is False and len(request["stop"]) == 4 and "\n" in request["stop"]
    assert request["stop_token_ids"] == [tok.convert_tokens_to_ids("<|endoftext|>")]


def test_the_served_model_and_tokenizer_are_checked_on_connect(model, tok):
    server = FakeServer(model, Behaviour(tokenize=lambda text: [1, 2, 3]))
    try:
        with pytest.raises(ServedCapabilityError, match="does not serve 'other'; it serves: 'tiny'"):
            ServedLM.connect(server.base_url, "other", tokenizer=tok, retry=FAST)
        with pytest.raises(ServedCapabilityError, match="pass the served model's tokenizer with --tokenizer"):
            connect(server, tok)
        server.behaviour.tokenize = lambda text: list(tok(text)["input_ids"])
        assert connect(server, tok).name == "tiny"
    finally:
        server.close()


def test_default_top_k_is_what_generate_applies(fake, tok, model):
    served, local = connect(fake, tok), LM(model, tok, progress=False)
    assert served.effective_top_k(None) == local.effective_top_k(None) == 50
    assert served.effective_top_k(0) == 0 and served.effective_top_k(3) == 3


def test_the_default_top_k_comes_from_the_first_generation_config_found(tmp_path):
    from transformers import GenerationConfig

    (tmp_path / "model").mkdir()
    (tmp_path / "empty").mkdir()
    GenerationConfig(do_sample=True, top_k=7).save_pretrained(tmp_path / "model")
    assert generation_top_k(["", str(tmp_path / "empty"), str(tmp_path / "model")]) == 7
    assert (
        generation_top_k([str(tmp_path / "empty")]) == 50
    )  # transformers' default, as generate() applies it


def test_cli_backend_options_are_checked(tmp_path, capsys):
    assert main(["--model", "x", "--backend", "openai", "--out", str(tmp_path / "a")]) == 2
    assert "--backend openai needs --base-url" in capsys.readouterr().err
    assert main(["--model", "x", "--base-url", "http://127.0.0.1:1/v1", "--out", str(tmp_path / "b")]) == 2
    assert "options of --backend openai" in capsys.readouterr().err
    args = ["--model", "no/such-model", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1"]
    assert main([*args, "--out", str(tmp_path / "c")]) == 2
    assert "name it with --tokenizer" in capsys.readouterr().err
