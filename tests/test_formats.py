"""Formats: exact strings (`docs/formats.md`), label masks and BOS/EOS rules, chat-template equivalence."""

from __future__ import annotations

import pytest

from spectrum_suite import formats
from spectrum_suite.episodes import EpisodeParams, Instance, generate_episodes, rows_to_samples
from spectrum_suite.formats import Segment, chat_template, render, show, tokenize
from spectrum_suite.formats.chat import build_chat
from spectrum_suite.formats.messages import normalise_messages
from tests.tokenizer_fixtures import build_tokenizer, make_tokenizer, smollm2_tokenizer

D = {"role": "description", "content": "Car make and model.", "example_ind": -1}
CARS = [
    D,
    {"role": "output", "content": "Acura Integra", "example_ind": 0},
    {"role": "output", "content": "Ford Mustang", "example_ind": 1},
]
FLIGHTS = [
    {"role": "input", "content": "Flight 1: 3 stops", "example_ind": 0},
    {"role": "output", "content": "7", "example_ind": 0},
    {"role": "input", "content": "Flight 2: nonstop", "example_ind": 1},
    {"role": "output", "content": "3", "example_ind": 1},
]
NO_INPUT = [{"role": "output", "content": "heads"}, {"role": "output", "content": "tails"}]

SPEC_CHAT_PROMPT = """You are tasked with generating outputs from a particular, potentially stochastic, generative process. You will be given some combination of:
- Description: A natural description of the generative process / data distribution
- Input: An input on which to condition the generative process.
- Example outputs: Example outputs from the process, either in a user message or as prior generations from a chat message. You may assume that any given outputs are exchangeable with one another (order-invariant) and generated from the same process (roughly i.i.d.). If the output data pertains to a single object, it just contains the output. If it contains multiple objects, use json formatting with keys for the name of the output variable.
You will be provided at least either a description or an example output.

Given these components, your job is to generate JUST the output in your response, roughly approximating the underlying generative process, maintaining any underlying stochasticity (if any is present). If you are asked to generate again, you will either be given an additional input to condition on, or will just be told to "Generate".
"""


def texts(segments: list[Segment]) -> list[tuple[str, bool]]:
    return [(s.text, s.scored) for s in segments]


def scored_text(out: dict[str, list[int]], tok) -> str:
    return tok.decode([i for i, lab in zip(out["input_ids"], out["labels"], strict=True) if lab != -100])


# --- spectrum format: exact strings --------------------------------------------------------------------


def test_spectrum_gemma_exact_segments():
    segs = render(CARS, "spectrum", family="gemma", add_generation_prompt=True)
    assert texts(segs) == [
        ("<start_of_turn>description\nCar make and model.<end_of_turn>\n", False),
        ("<start_of_turn>output\n", False),
        ("Acura Integra<end_of_turn>", True),
        ("\n", False),
        ("<start_of_turn>output\n", False),
        ("Ford Mustang<end_of_turn>", True),
        ("\n", False),
        ("<start_of_turn>output\n", False),
    ]
    assert [s.output_index for s in segs] == [-1, 0, 0, 0, 1, 1, 1, -1]


def test_spectrum_evaluation_prompt_matches_spec_example():
    """The paper's coverage evaluation gives the exact Gemma spectrum prompt with three examples."""
    msgs = [D] + [
        {"role": "output", "content": y} for y in ("Acura Integra", "Ford Mustang", "Tesla Model 3")
    ]
    assert formats.prompt_text(msgs, "spectrum", None, family="gemma") == (
        "<start_of_turn>description\nCar make and model.<end_of_turn>\n<start_of_turn>output\nAcura Integra"
        "<end_of_turn>\n<start_of_turn>output\nFord Mustang<end_of_turn>\n<start_of_turn>output\nTesla Model 3"
        "<end_of_turn>\n<start_of_turn>output\n"
    )


def test_spectrum_chatml_first_output_rule_without_description():
    segs = render(FLIGHTS, "spectrum", family="chatml")
    assert texts(segs) == [
        ("<|im_start|>input\nFlight 1: 3 stops<|im_end|>\n", False),
        ("<|im_start|>output\n", False),
        ("7<|im_end|>", False),  # first output, no description before it: not scored
        ("\n", False),
        ("<|im_start|>input\nFlight 2: nonstop<|im_end|>\n", False),
        ("<|im_start|>output\n", False),
        ("3<|im_end|>", True),
        ("\n", False),
    ]
    assert show(segs).endswith("<|im_start|>output\n____3<|im_end|>____\n")


def test_spectrum_llama3_has_no_newline_after_turns():
    segs = render(CARS, "spectrum", family="llama3", add_generation_prompt=True)
    assert texts(segs) == [
        ("<|start_header_id|>description<|end_header_id|>\n\nCar make and model.<|eot_id|>", False),
        ("<|start_header_id|>output<|end_header_id|>\n\n", False),
        ("Acura Integra<|eot_id|>", True),
        ("<|start_header_id|>output<|end_header_id|>\n\n", False),
        ("Ford Mustang<|eot_id|>", True),
        ("<|start_header_id|>output<|end_header_id|>\n\n", False),
    ]


def test_spectrum_plain_layout_uses_eos_as_terminator():
    tok = make_tokenizer("plain")
    assert formats.detect_family(tok) == "plain"
    assert show(render(FLIGHTS, "spectrum", tok, add_generation_prompt=True)) == (
        "input:\nFlight 1: 3 stops\noutput:\n7</s>\ninput:\nFlight 2: nonstop\noutput:\n____3</s>____\noutput:\n"
    )
    assert formats.stop_strings("spectrum", tok) == ["</s>"]
    with pytest.raises(ValueError, match="EOS"):
        render(FLIGHTS, "spectrum", family="plain")


def test_spectrum_contents_verbatim_and_later_outputs_scored():
    msgs = [{"role": "output", "content": "  a \n"}, {"role": "output", "content": " b"}]
    segs = render(msgs, "spectrum", family="gemma")
    assert [s.text for s in segs if s.scored] == [" b<end_of_turn>"]
    assert "  a \n<end_of_turn>" in "".join(s.text for s in segs)


@pytest.mark.parametrize("family", ["gemma", "chatml", "llama3", "plain"])
def test_detect_family_and_explicit_family_wins(family):
    tok = make_tokenizer(family)
    assert formats.detect_family(tok) == family
    assert formats.detect_family(tok, family="plain") == "plain"
    plain = render(CARS, "spectrum", tok, family="plain")
    assert plain[0].text == "description:\nCar make and model.\n"


def test_generation_prefix_and_stop_strings():
    assert formats.generation_prefix("spectrum", "gemma") == "<start_of_turn>output\n"
    assert formats.generation_prefix("spectrum", "llama3") == "<|start_header_id|>output<|end_header_id|>\n\n"
    assert formats.generation_prefix("colon") == "Output:"
    assert formats.generation_prefix("chat", "gemma") == "<start_of_turn>model\n"
    assert formats.generation_prefix("chat", tokenizer=make_tokenizer("chatml")) == (
        "<|im_start|>assistant\n<think>\n\n</think>\n\n"
    )
    assert formats.stop_strings("spectrum", None, family="chatml") == ["<|im_end|>"]
    assert formats.stop_strings("colon", None) == ["\n"]
    assert formats.stop_strings("chat", make_tokenizer("llama3")) == ["<|eot_id|>"]
    assert formats.stop_strings("spectrum", make_tokenizer("gemma")) == ["<end_of_turn>"]


# --- colon format --------------------------------------------------------------------------------------


def test_colon_exact_strings_and_scoring():
    msgs = [D, {"role": "input", "content": "Flight 1"}, {"role": "output", "content": "  3 \n"}]
    segs = render(msgs, "colon", add_generation_prompt=True)
    assert texts(segs) == [
        ("Description: Car make and model.\n\n", False),
        ("Input: Flight 1\n\n", False),
        ("Output:", False),
        (" 3\n\n", True),
        ("Output:", False),
    ]
    assert [s.output_index for s in segs] == [-1, 0, 0, 0, -1]


def test_colon_has_no_first_output_rule():
    segs = render(NO_INPUT, "colon")
    assert show(segs) == "Output:____ heads\n\n____Output:____ tails\n\n____"


def test_colon_evaluation_prompt_matches_spec_example():
    """The colon prompt of the coverage evaluation."""
    msgs = [D] + [
        {"role": "output", "content": y} for y in ("Acura Integra", "Ford Mustang", "Tesla Model 3")
    ]
    assert formats.prompt_text(msgs, "colon", None) == (
        "Description: Car make and model.\n\nOutput: Acura Integra\n\nOutput: Ford Mustang\n\n"
        "Output: Tesla Model 3\n\nOutput:"
    )


def test_colon_output_name_rewrites_only_the_final_label():
    """The alignment prompt: content mentioning Output stays intact (docs/deviations.md#colon-output-label)."""
    msgs = [
        {"role": "description", "content": "An urn. Output the colour."},
        {"role": "input", "content": "Draw a ball at random, and tell me the color (lowercase)."},
    ]
    text = formats.prompt_text(msgs, "colon", None, output_name="Response (color)")
    assert text == (
        "Description: An urn. Output the colour.\n\n"
        "Input: Draw a ball at random, and tell me the color (lowercase).\nResponse (color):"
    )
    with pytest.raises(ValueError, match="add_generation_prompt"):
        render(msgs, "colon", output_name="Response")


def test_colon_accepts_assistant_and_capitalises_other_roles():
    segs = render([{"role": "assistant", "content": "x"}, {"role": "note", "content": "n"}], "colon")
    assert texts(segs) == [("Output:", False), (" x\n\n", True), ("Note: n\n\n", False)]


# --- chat format ---------------------------------------------------------------------------------------


def test_default_chat_prompt_is_the_spec_text():
    assert formats.DEFAULT_CHAT_PROMPT == SPEC_CHAT_PROMPT


def test_build_chat_with_description_and_no_inputs_uses_generate_turns():
    chat, samples = build_chat(normalise_messages(CARS), add_generation_prompt=True, chat_prompt="P")
    assert chat == [
        {"role": "system", "content": "P\n\nDescription: Car make and model."},
        {"role": "user", "content": "Generate"},
        {"role": "assistant", "content": "Acura Integra"},
        {"role": "user", "content": "Generate"},
        {"role": "assistant", "content": "Ford Mustang"},
        {"role": "user", "content": "Generate."},
    ]
    assert samples == [0, 1]


def test_build_chat_first_example_goes_into_the_system_prompt():
    chat, samples = build_chat(normalise_messages(FLIGHTS), chat_prompt="P")
    assert chat == [
        {"role": "system", "content": "P\n\nExample Input: Flight 1: 3 stops\n\nExample Output: 7"},
        {"role": "user", "content": "Flight 2: nonstop"},
        {"role": "assistant", "content": "3"},
    ]
    assert samples == [1]


@pytest.mark.parametrize(
    ("msgs", "expected"),
    [
        (
            [D],
            [
                {"role": "system", "content": "P\n\nDescription: Car make and model."},
                {"role": "user", "content": ""},
            ],
        ),
        (
            [{"role": "input", "content": "x"}],
            [{"role": "system", "content": "P\n\nExample Input: x"}, {"role": "user", "content": ""}],
        ),
        (
            [D, {"role": "input", "content": "x"}],
            [
                {"role": "system", "content": "P\n\nDescription: Car make and model."},
                {"role": "user", "content": "x"},
            ],
        ),
    ],
)
def test_build_chat_padding(msgs, expected):
    assert build_chat(normalise_messages(msgs), add_generation_prompt=True, chat_prompt="P")[0] == expected


def test_build_chat_all_examples_in_prompt_variants():
    outs = [{"role": "output", "content": y} for y in ("Acura Integra", "Ford Mustang")]
    kw = {"chat_prompt": "Respond with JUST the requested output, nothing else.", "description_prefix": ""}
    both, _ = build_chat(normalise_messages([D, *outs]), all_examples_in_prompt=True, **kw)
    assert both == [
        {
            "role": "system",
            "content": "Respond with JUST the requested output, nothing else.\n\nCar make and model.\n\n"
            "Example Output: Acura Integra\n\nExample Output: Ford Mustang",
        },
        {"role": "user", "content": "Now generate an output based on the description and examples."},
    ]
    only_d, _ = build_chat(normalise_messages([D]), all_examples_in_prompt=True, **kw)
    assert only_d[1]["content"] == "Generate something that fits this description."
    only_x, _ = build_chat(normalise_messages(outs), all_examples_in_prompt=True, **kw)
    assert only_x[1]["content"] == "Generate an output like the provided examples."
    with pytest.raises(ValueError, match="neither"):
        build_chat(normalise_messages([{"role": "input", "content": "x"}]), all_examples_in_prompt=True, **kw)


def test_chat_gemma_no_bos_literal_and_scored_model_turns():
    tok = make_tokenizer("gemma")
    segs = render(FLIGHTS, "chat", tok, chat_prompt="P")
    assert texts(segs) == [
        (
            "<start_of_turn>user\nP\n\nExample Input: Flight 1: 3 stops\n\nExample Output: 7\n\nFlight 2: nonstop"
            "<end_of_turn>\n<start_of_turn>model\n",
            False,
        ),
        ("3<end_of_turn>", True),
        ("\n", False),
    ]
    assert segs[1].output_index == 1  # the first example sits in the system prompt: j = sample j + 1
    out = tokenize(FLIGHTS, "chat", tok)
    assert out["input_ids"].count(tok.bos_token_id) == 1 and out["input_ids"][0] == tok.bos_token_id


def test_chat_qwen3_style_template_gets_empty_think_blocks_outside_the_loss():
    tok = make_tokenizer("chatml")
    segs = render(CARS, "chat", tok, add_generation_prompt=True, system_prompt="P")
    text = "".join(s.text for s in segs)
    assert text.count("<|im_start|>assistant\n<think>\n\n</think>\n\n") == 3
    assert [s.text for s in segs if s.scored] == ["Acura Integra<|im_end|>", "Ford Mustang<|im_end|>"]
    assert text.endswith(
        "<|im_start|>user\nGenerate.<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    )


def test_chat_smollm2_is_chatml_without_think_block():
    tok = smollm2_tokenizer()
    segs = render(CARS, "chat", tok, system_prompt="P")
    text = "".join(s.text for s in segs)
    assert "<think>" not in text
    assert text.startswith("<|im_start|>system\nP\n\nDescription: Car make and model.<|im_end|>\n")
    assert [s.text for s in segs if s.scored] == ["Acura Integra<|im_end|>", "Ford Mustang<|im_end|>"]
    assert formats.stop_strings("chat", tok) == ["<|im_end|>"]


def test_chat_evaluation_prompts_on_smollm2():
    """The chat prompts of the alignment and coverage evaluations, on a real template."""
    tok = smollm2_tokenizer()
    urn = [{"role": "description", "content": "An urn."}, {"role": "input", "content": "Draw a ball."}]
    system = "Given the description and an input, respond with just an output."
    assert formats.prompt_text(urn, "chat", tok, system_prompt=system) == (
        "<|im_start|>system\nGiven the description and an input, respond with just an output.\n\n"
        "Description: An urn.<|im_end|>\n<|im_start|>user\nDraw a ball.<|im_end|>\n<|im_start|>assistant\n"
    )
    cars = [D, {"role": "output", "content": "Acura Integra"}]
    text = formats.prompt_text(
        cars,
        "chat",
        tok,
        system_prompt="Respond with JUST the requested output, nothing else.",
        description_prefix="",
        all_examples_in_prompt=True,
    )
    assert text == (
        "<|im_start|>system\nRespond with JUST the requested output, nothing else.\n\nCar make and model.\n\n"
        "Example Output: Acura Integra<|im_end|>\n<|im_start|>user\n"
        "Now generate an output based on the description and examples.<|im_end|>\n<|im_start|>assistant\n"
    )
    assert not any(
        s.scored for s in render(cars, "chat", tok, add_generation_prompt=True, all_examples_in_prompt=True)
    )


def test_chat_llama3_single_bos_d28():
    tok = make_tokenizer("llama3")
    text = formats.prompt_text(CARS, "chat", tok, system_prompt="P")
    assert not text.startswith("<|begin_of_text|>")
    assert "Today Date" in text and text.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    ids = tok(text)["input_ids"]
    assert ids.count(tok.bos_token_id) == 1


def test_chat_derives_markers_of_another_template():
    template = (
        "{% for m in messages %}{{ '<|' + m['role'] + '|>\\n' + m['content'] + '</s>\\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
    )
    tok = build_tokenizer("plain", chat_template=template)
    segs = render(CARS, "chat", tok, system_prompt="P")
    assert [s.text for s in segs if s.scored] == ["Acura Integra</s>", "Ford Mustang</s>"]
    assert formats.stop_strings("chat", tok) == ["</s>"]


def test_chat_errors():
    with pytest.raises(ValueError, match="format 'chat' needs a tokenizer with a chat template"):
        render(CARS, "chat", make_tokenizer("plain"))
    with pytest.raises(ValueError, match="format 'chat' needs a tokenizer with a chat template"):
        render(CARS, "chat", None)
    with pytest.raises(ValueError, match="message 1: unknown role 'user'"):
        render([D, {"role": "user", "content": "x"}], "chat", make_tokenizer("gemma"))
    with pytest.raises(TypeError, match="unknown options"):
        render(CARS, "chat", make_tokenizer("gemma"), description_lambda=str)


# --- tokenisation and masks ----------------------------------------------------------------------------


def test_tokenize_gemma_labels_bos_and_final_eos():
    tok = make_tokenizer("gemma")
    out = tokenize(CARS, "spectrum", tok)
    ids, labels = out["input_ids"], out["labels"]
    assert ids[0] == tok.bos_token_id and ids.count(tok.bos_token_id) == 1
    assert ids[-1] == tok.eos_token_id and labels[-1] == -100
    assert len(ids) == len(labels) == len(out["output_index"]) == len(out["attention_mask"])
    assert scored_text(out, tok) == "Acura Integra<end_of_turn>Ford Mustang<end_of_turn>"
    for j, content in enumerate(["Acura Integra", "Ford Mustang"]):
        span = [i for i, o in zip(ids, out["output_index"], strict=True) if o == j]
        assert tok.decode(span) == content + "<end_of_turn>"
    assert all((lab == -100) == (o == -1) for lab, o in zip(labels, out["output_index"], strict=True))


def test_tokenize_first_output_unscored_and_output_index_is_sample_index():
    tok = make_tokenizer("chatml")
    out = tokenize(FLIGHTS, "spectrum", tok)
    assert sorted(set(out["output_index"])) == [-1, 1]
    assert scored_text(out, tok) == "3<|im_end|>"
    assert out["input_ids"][-1] == tok.eos_token_id  # <|endoftext|>, as Qwen3-Base


def test_tokenize_no_extra_eos_when_the_terminator_is_the_eos():
    tok = make_tokenizer("llama3")  # EOS <|eot_id|>, as Llama 3.1 instruct
    out = tokenize(CARS, "spectrum", tok)
    assert out["input_ids"][-1] == tok.eos_token_id and out["labels"][-1] == tok.eos_token_id
    assert out["input_ids"].count(tok.eos_token_id) == 3  # description + two outputs, nothing appended


def test_tokenize_drops_tokenizer_added_eos_but_keeps_text_terminators():
    tok = make_tokenizer("plain")  # adds <s> ... </s> around every text
    assert tok("x")["input_ids"][-1] == tok.eos_token_id
    out = tokenize(CARS, "spectrum", tok)
    ids = out["input_ids"]
    assert ids.count(tok.bos_token_id) == 1 and ids[0] == tok.bos_token_id
    assert ids.count(tok.eos_token_id) == 3  # two scored terminators + the final one
    assert out["labels"][-1] == -100 and scored_text(out, tok) == "Acura Integra</s>Ford Mustang</s>"


def test_tokenize_smollm2_keeps_im_end_terminators():
    tok = smollm2_tokenizer()
    out = tokenize(CARS, "spectrum", tok)
    toks = tok.convert_ids_to_tokens(out["input_ids"])
    assert toks[0] == "<|im_start|>" and toks[-3:] == ["<|im_end|>", "\u010a", "<|im_end|>"]
    assert out["labels"][-1] == -100 and out["labels"][-3] == tok.eos_token_id


def test_tokenize_generation_prompt_gets_no_final_eos():
    tok = make_tokenizer("gemma")
    out = tokenize(CARS, "spectrum", tok, add_generation_prompt=True)
    assert tok.decode(out["input_ids"]).endswith("<start_of_turn>output\n")
    assert out["input_ids"] == tok(formats.prompt_text(CARS, "spectrum", tok))["input_ids"]


def test_tokenize_max_length_truncates_every_array():
    tok = make_tokenizer("gemma")
    full = tokenize(CARS, "spectrum", tok)
    cut = tokenize(CARS, "spectrum", tok, max_length=20)
    assert {k: len(v) for k, v in cut.items()} == dict.fromkeys(full, 20)
    assert all(cut[k] == full[k][:20] for k in full)
    assert len(tokenize(CARS, "spectrum", tok, max_length=25, tokenize_max_length=10)["input_ids"]) == 10
    assert len(full["input_ids"]) < formats.REFERENCE_MAX_LENGTH
    with pytest.raises(ValueError, match="max_length"):
        tokenize(CARS, "spectrum", tok, max_length=0)


def test_tokenize_colon_scores_trailing_blank_line_and_strict_reports_boundary_merges():
    tok = make_tokenizer("chatml")
    msgs = [
        {"role": "input", "content": "x"},
        {"role": "output", "content": " 3 "},
        {"role": "input", "content": "y"},
    ]
    out = tokenize(msgs, "colon", tok)
    assert scored_text(out, tok) == " 3\n\n"
    with pytest.raises(ValueError, match="per-segment tokenisation differs"):
        tokenize(msgs, "colon", tok, strict=True)


def test_public_contract_names():
    assert Segment._fields == ("text", "scored", "output_index")
    assert formats.PROMPT_FAMILIES == ("gemma", "chatml", "llama3", "plain")
    assert formats.FORMATS == ("spectrum", "colon", "chat")


def test_show_marks_scored_spans():
    assert show([Segment("a", False, -1), Segment("b", True, 0), Segment("c", False, 0)]) == "a____b____c"


# --- the spectrum chat template ------------------------------------------------------------------------

EPISODES = {
    "described": CARS,
    "inputs": FLIGHTS,
    "no_description": NO_INPUT,
    "single": [{"role": "output", "content": "only"}],
    "ends_with_input": [D, *FLIGHTS, {"role": "input", "content": "Flight 3: 1 stop"}],
    "unicode_json": [D, {"role": "output", "content": '{"city": "東京", "n": 3}'}],
}


def assert_template_matches(tok, family: str, msgs, add_generation_prompt: bool = False) -> None:
    ours = tokenize(
        msgs, "spectrum", tok, family=family, add_generation_prompt=add_generation_prompt, strict=True
    )
    theirs = tok.apply_chat_template(
        msgs,
        chat_template=chat_template(family, tok),
        tokenize=True,
        return_dict=True,
        return_assistant_tokens_mask=True,
        add_generation_prompt=add_generation_prompt,
    )
    assert theirs["input_ids"] == ours["input_ids"]
    assert theirs["assistant_masks"] == [int(lab != -100) for lab in ours["labels"]]
    if add_generation_prompt:
        rendered = tok.apply_chat_template(
            msgs, chat_template=chat_template(family, tok), tokenize=False, add_generation_prompt=True
        )
        assert rendered.endswith(formats.prompt_text(msgs, "spectrum", tok, family=family))


@pytest.mark.parametrize("family", ["gemma", "chatml", "llama3", "plain"])
@pytest.mark.parametrize("name", sorted(EPISODES))
def test_chat_template_matches_tokenize(family, name):
    tok = make_tokenizer(family)
    assert_template_matches(tok, family, EPISODES[name])
    assert_template_matches(tok, family, EPISODES[name], add_generation_prompt=True)


@pytest.mark.parametrize("name", sorted(EPISODES))
def test_chat_template_matches_tokenize_on_smollm2(name):
    assert_template_matches(smollm2_tokenizer(), "chatml", EPISODES[name])


def test_chat_template_first_output_rule_and_family_defaults():
    tok = make_tokenizer("gemma")
    mask = tok.apply_chat_template(
        NO_INPUT,
        chat_template=chat_template("gemma"),
        tokenize=True,
        return_dict=True,
        return_assistant_tokens_mask=True,
    )
    kept = [i for i, m in zip(mask["input_ids"], mask["assistant_masks"], strict=True) if m]
    assert tok.decode(kept) == "tails<end_of_turn>"
    assert "bos_token" not in chat_template("chatml") and "bos_token" in chat_template("llama3")
    with pytest.raises(ValueError, match="unknown model family 'qwen'"):
        chat_template("qwen")


def test_chat_template_rejects_unknown_roles():
    tok = make_tokenizer("gemma")
    with pytest.raises(Exception, match="unknown role user"):
        tok.apply_chat_template(
            [{"role": "user", "content": "x"}], chat_template=chat_template("gemma"), tokenize=False
        )


@pytest.mark.shared
def test_real_titanic_episodes_tokenise_and_match_the_template(shared_data):
    """Episodes of real Titanic rows (quotes, brackets, missing ages as null) through every family."""
    import pandas as pd

    frame = pd.read_csv(shared_data / "titanic" / "titanic.csv").head(60)
    samples = rows_to_samples(frame.to_dict("records"), ["Name", "Sex"], ["Age", "Survived"])
    inst = Instance(
        key="titanic", name="titanic", descriptions=["Passengers of the Titanic."], population=samples
    )
    params = EpisodeParams(seed=7, n_per=6, n_iter=5, description_prob=0.5)
    episodes = [ep.messages() for ep in generate_episodes([inst], params)]
    assert any(m[0]["role"] == "description" for m in episodes) and any(
        m[0]["role"] == "input" for m in episodes
    )
    for family in ("gemma", "chatml", "llama3", "plain"):
        tok = make_tokenizer(family)
        for msgs in episodes:
            assert_template_matches(tok, family, msgs)
            out = tokenize(msgs, "spectrum", tok)
            scored = {o for o in out["output_index"] if o != -1}
            expected = {m["example_ind"] for m in msgs if m["role"] == "output"}
            if msgs[0]["role"] != "description":
                expected -= {msgs[1]["example_ind"]}
            assert scored == expected


# --- errors ------------------------------------------------------------------------------------------


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="message 1: unknown role 'user'"):
        render([D, {"role": "user", "content": "x"}], "spectrum", family="gemma")
    with pytest.raises(ValueError, match="unknown model family 'mistral'; expected one of gemma, chatml"):
        render(CARS, "spectrum", family="mistral")
    with pytest.raises(ValueError, match="unknown format 'json'"):
        render(CARS, "json", family="gemma")
    with pytest.raises(ValueError, match="needs a tokenizer or a family"):
        render(CARS, "spectrum")
    with pytest.raises(ValueError, match=r"message 0 \(output\): 'content' must be a str"):
        render([{"role": "output", "content": 3}], "spectrum", family="gemma")
    with pytest.raises(ValueError, match="messages is empty"):
        render([], "colon")
    with pytest.raises(ValueError, match="needs the turn tokens <start_of_turn>"):
        render(CARS, "spectrum", make_tokenizer("chatml"), family="gemma")
    with pytest.raises(TypeError, match="unknown options"):
        render(CARS, "spectrum", family="gemma", output_name="x")


def test_column_form_messages_from_datasets():
    columns = {
        "role": [m["role"] for m in CARS],
        "content": [m["content"] for m in CARS],
        "example_ind": [m["example_ind"] for m in CARS],
    }
    assert render(columns, "spectrum", family="gemma") == render(CARS, "spectrum", family="gemma")
    missing_inds = [{"role": m["role"], "content": m["content"]} for m in FLIGHTS]
    assert [s.output_index for s in render(missing_inds, "colon")] == [0, 0, 0, 1, 1, 1]


# --- the Format object: resolved once, one path from messages to tokens ---------------------------------

LONG = [D] + [{"role": "output", "content": f"Car number {j} of many", "example_ind": j} for j in range(12)]


def test_a_format_is_resolved_once_and_the_functions_delegate_to_it():
    tok = make_tokenizer("gemma")
    fmt = formats.Format("spectrum", tok)
    assert (fmt.name, fmt.family) == ("spectrum", "gemma")
    assert fmt.render(CARS) == render(CARS, "spectrum", tok)
    assert fmt.prompt_text(CARS) == formats.prompt_text(CARS, "spectrum", tok)
    assert fmt.stop_strings == formats.stop_strings("spectrum", tok) == ["<end_of_turn>"]
    assert fmt.generation_prefix == formats.generation_prefix("spectrum", tokenizer=tok)
    assert fmt.tokenize(CARS) == tokenize(CARS, "spectrum", tok)
    colon = formats.Format("colon", tok)
    assert colon.continuation("red") == " red" and fmt.continuation("red") == "red"
    assert colon.output_end == "\n\n" and fmt.output_end == "<end_of_turn>"


def test_a_tokenizer_that_cannot_express_a_format_fails_when_it_is_built():
    with pytest.raises(
        formats.FormatNotExpressibleError, match="cannot express format 'spectrum'.*<start_of_turn>"
    ):
        formats.Format("spectrum", make_tokenizer("chatml"), family="gemma")
    with pytest.raises(
        formats.FormatNotExpressibleError, match="cannot express format 'chat'.*chat template"
    ):
        formats.Format("chat", make_tokenizer("plain"))
    no_system = (
        "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
        "{% endif %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    with pytest.raises(
        formats.FormatNotExpressibleError, match="refused a chat of roles system.*System role"
    ):
        formats.Format("chat", build_tokenizer("chatml", chat_template=no_system))
    other_markers = (  # ChatML tokens in the vocabulary, but a template that writes other turn markers
        "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}[assistant] {% endif %}"
    )
    with pytest.raises(formats.FormatNotExpressibleError, match="assistant turns"):
        formats.Format("chat", build_tokenizer("chatml", chat_template=other_markers))
    with pytest.raises(ValueError, match="needs a tokenizer to encode"):
        formats.Format("spectrum", family="gemma").encode(CARS)


@pytest.mark.parametrize("name", formats.FORMATS)
def test_every_cut_at_max_length_keeps_the_whole_episodes_tokens_and_names_the_cut_output(name):
    tok = make_tokenizer("chatml")
    fmt = formats.Format(name, tok)
    whole = fmt.encode(LONG)
    spans = formats.scored_spans(whole)
    n = len(whole.input_ids)
    for cut in range(1, n + 2):
        enc = fmt.encode(LONG, max_length=cut)
        assert (enc.input_ids, enc.labels, enc.output_index) == (
            whole.input_ids[:cut], whole.labels[:cut], whole.output_index[:cut],
        )  # fmt: skip
        assert enc.truncated == (n > cut)
        through = [s.sample_index for s in spans if s.positions[0] < cut <= s.positions[-1]]
        assert enc.cut_output == (through[0] if through else None)
        complete = [s.example_ind for s in spans if s.positions[-1] < cut]
        partial = [s for s in spans if s.positions[0] < cut <= s.positions[-1]]
        expected = complete[-1] if complete else (-1 if partial else None)
        assert formats.encoded.complete_outputs(enc) == expected, cut
        dropped = fmt.encode(LONG, max_length=cut, drop_partial_output=True)
        unlabelled = [k for k in range(min(cut, n)) if dropped.labels[k] != enc.labels[k]]
        assert dropped.partial_unlabelled == bool(through)
        assert unlabelled == ([k for k in partial[0].positions if k < cut] if partial else [])
