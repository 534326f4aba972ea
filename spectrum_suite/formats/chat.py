"""The `chat` format: episodes as an ordinary chat, rendered by the tokenizer's own template.

Instruction-tuned baselines see the episode as system/user/assistant turns (`docs/formats.md#chat-format`):
the description and the first example go into the system prompt, each later output is an assistant
turn, and only assistant turns (content plus end-of-turn) are scored. After the template renders the
chat, family fix-ups make the string what the model expects: Gemma's literal ``<bos>`` goes (the
tokenizer adds the only BOS), a Qwen3-style template gets an empty think block in every assistant
turn, and a leading literal BOS is dropped whenever the tokenizer adds its own
(`docs/deviations.md#chat-prompts-one-bos-explicit-terminators`).

Scored segments carry the sample index of their output; the unscored text between them mixes system
and user turns and carries -1. The paper's `chat_simple` is this format with ``chat_prompt=""`` and
``description_prefix=""``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .families import THINK_BLOCK, TURN_FAMILIES, detect_family
from .messages import Message, Segment, unknown_role
from .tokenize import special_affixes

DEFAULT_CHAT_PROMPT = (
    "You are tasked with generating outputs from a particular, potentially stochastic, generative process. "
    "You will be given some combination of:\n"
    "- Description: A natural description of the generative process / data distribution\n"
    "- Input: An input on which to condition the generative process.\n"
    "- Example outputs: Example outputs from the process, either in a user message or as prior generations "
    "from a chat message. You may assume that any given outputs are exchangeable with one another "
    "(order-invariant) and generated from the same process (roughly i.i.d.). If the output data pertains to "
    "a single object, it just contains the output. If it contains multiple objects, use json formatting with "
    "keys for the name of the output variable.\n"
    "You will be provided at least either a description or an example output.\n"
    "\n"
    "Given these components, your job is to generate JUST the output in your response, roughly approximating "
    "the underlying generative process, maintaining any underlying stochasticity (if any is present). If you "
    "are asked to generate again, you will either be given an additional input to condition on, or will just "
    'be told to "Generate".\n'
)
DEFAULT_USER_MESSAGE = "Generate."
DELIM = "\n\n"

#: The user message of `all_examples_in_prompt` mode, by (has description, has examples).
ALL_EXAMPLES_USER = {
    (True, True): "Now generate an output based on the description and examples.",
    (True, False): "Generate something that fits this description.",
    (False, True): "Generate an output like the provided examples.",
}

#: Assistant header and end-of-turn string of each family's own chat template.
CHAT_MARKERS = {name: (f.header(f.assistant), f.turn_end) for name, f in TURN_FAMILIES.items()}
THINK_HEADER = CHAT_MARKERS["chatml"][0] + THINK_BLOCK

CHAT_OPTIONS = (
    "chat_prompt",
    "system_prompt",
    "description_prefix",
    "example_input_prefix",
    "example_output_prefix",
    "all_examples_in_prompt",
    "default_user_message",
)


def build_chat(
    messages: Sequence[Message],
    add_generation_prompt: bool = False,
    *,
    chat_prompt: str = DEFAULT_CHAT_PROMPT,
    description_prefix: str = "Description: ",
    example_input_prefix: str = "Example Input: ",
    example_output_prefix: str = "Example Output: ",
    all_examples_in_prompt: bool = False,
    default_user_message: str = DEFAULT_USER_MESSAGE,
) -> tuple[list[dict[str, str]], list[int]]:
    """The chat messages of an episode and the sample index of each assistant turn, in order."""
    if all_examples_in_prompt:
        return _build_all_in_prompt(
            messages, chat_prompt, description_prefix, example_input_prefix, example_output_prefix
        ), []
    chat: list[dict[str, str]] = []
    assistant_samples: list[int] = []
    system, seen, has_input = chat_prompt, False, False

    def push_system() -> None:
        if system.strip():
            chat.append({"role": "system", "content": system.strip()})

    for i, message in enumerate(messages):
        if message.role == "description":
            system += DELIM + description_prefix + message.content
            push_system()
            seen = True
        elif message.role == "input":
            has_input = True
            if not seen:
                system += DELIM + example_input_prefix + message.content
            else:
                chat.append({"role": "user", "content": message.content})
        elif message.role == "output":
            if not seen:
                system += DELIM + example_output_prefix + message.content
                push_system()
                seen = True
            else:
                if not has_input:
                    chat.append({"role": "user", "content": "Generate"})
                chat.append({"role": "assistant", "content": message.content})
                assistant_samples.append(message.index)
        else:
            raise unknown_role(i, message.role)
    if not chat:
        chat += [{"role": "system", "content": system.strip()}, {"role": "user", "content": ""}]
    elif len(chat) == 1:
        chat.append({"role": "user", "content": ""})
    if add_generation_prompt and chat[-1]["role"] == "assistant":
        chat.append({"role": "user", "content": default_user_message})
    return chat, assistant_samples


def _build_all_in_prompt(
    messages: Sequence[Message],
    chat_prompt: str,
    description_prefix: str,
    input_prefix: str,
    output_prefix: str,
) -> list[dict[str, str]]:
    """One system message with the description and every example, then one user request."""
    parts = [chat_prompt]
    has_description = has_examples = False
    for i, message in enumerate(messages):
        if message.role == "description":
            parts.append(description_prefix + message.content)
            has_description = True
        elif message.role == "input":
            parts.append(input_prefix + message.content)
        elif message.role == "output":
            parts.append(output_prefix + message.content)
            has_examples = True
        else:
            raise unknown_role(i, message.role)
    if not (has_description or has_examples):
        raise ValueError(
            "all_examples_in_prompt needs a description or at least one example output; got neither"
        )
    user = ALL_EXAMPLES_USER[(has_description, has_examples)]
    return [{"role": "system", "content": DELIM.join(parts).strip()}, {"role": "user", "content": user}]


def _render(tokenizer: Any, chat: list[dict[str, str]], add_generation_prompt: bool) -> str:
    """The tokenizer's own template applied to a chat, as text; a template's own refusal becomes a ValueError."""
    from jinja2 import TemplateError

    try:
        return tokenizer.apply_chat_template(
            chat, tokenize=False, add_generation_prompt=add_generation_prompt
        )
    except TemplateError as err:
        roles = ", ".join(dict.fromkeys(m["role"] for m in chat))
        raise ValueError(f"the chat template refused a chat of roles {roles}: {err}") from err


def is_think_template(tokenizer: Any) -> bool:
    """Whether the template renders a think block into an assistant turn (Qwen3-style)."""
    probe = [{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}]
    return "<think>" in _render(tokenizer, probe, False)


def chat_markers(tokenizer: Any, family: str | None = None) -> tuple[str, str]:
    """The assistant header and end-of-turn string used to find scored spans in the rendered chat.

    Known families use their template's strings (Qwen3-style ChatML with the empty think block); for
    any other template they are read off renderings: the header is what ``add_generation_prompt``
    appends, the end of turn is the first word after an assistant message's content.
    """
    require_chat_template(tokenizer)
    name = detect_family(tokenizer, family)
    if name == "chatml" and is_think_template(tokenizer):
        return THINK_HEADER, CHAT_MARKERS["chatml"][1]
    if name in CHAT_MARKERS:
        return CHAT_MARKERS[name]
    probe = [{"role": "user", "content": "u"}]
    bare, prompted = _render(tokenizer, probe, False), _render(tokenizer, probe, True)
    header = prompted[len(bare) :] if prompted.startswith(bare) else ""
    sentinel = "\x00assistant-content\x00"
    rendered = _render(tokenizer, [*probe, {"role": "assistant", "content": sentinel}], False)
    tail = rendered.split(sentinel, 1)[-1].split()
    if not header or sentinel not in rendered or not tail:
        raise ValueError(
            "format 'chat' cannot find the assistant header and end-of-turn string of this chat template "
            f"(family {name!r}); use one of {', '.join(TURN_FAMILIES)} or the 'colon' format"
        )
    return header, tail[0]


def require_chat_template(tokenizer: Any) -> None:
    """Raise unless the tokenizer carries a chat template."""
    if tokenizer is None or not getattr(tokenizer, "chat_template", None):
        raise ValueError("format 'chat' needs a tokenizer with a chat template")


def fix_up(text: str, tokenizer: Any, family: str, header: str) -> str:
    """Family fix-ups of the rendered chat and a single BOS (`docs/formats.md#chat-format`)."""
    if family == "gemma":
        text = text.replace("<bos>", "")
    if header == THINK_HEADER:
        plain = CHAT_MARKERS["chatml"][0]
        text = text.replace(THINK_HEADER, plain).replace(plain, THINK_HEADER)
    bos = getattr(tokenizer, "bos_token", None)
    if bos and text.startswith(bos) and special_affixes(tokenizer)[0]:
        text = text[len(bos) :]
    return text


def split_scored(text: str, header: str, end: str, samples: Sequence[int]) -> list[Segment]:
    """Cut the rendered chat into segments: each assistant content plus its end-of-turn is scored.

    A header at the very end (the generation prompt) leaves an empty turn; any other assistant turn
    without an end-of-turn string is an error (`docs/deviations.md#chat-prompts-one-bos-explicit-terminators`),
    as is a count of turns that does not
    match the episode's assistant messages.
    """
    segments: list[Segment] = []
    pos, turn = 0, 0
    while True:
        at = text.find(header, pos)
        if at < 0:
            break
        start = at + len(header)
        segments.append(Segment(text[pos:start], False, -1))
        if start == len(text):
            pos = start
            break
        stop = text.find(end, start)
        if stop < 0:
            raise ValueError(f"assistant turn {turn} of the rendered chat has no end-of-turn string {end!r}")
        if turn >= len(samples):
            raise ValueError(f"the rendered chat has more assistant turns than the {len(samples)} expected")
        stop += len(end)
        segments.append(Segment(text[start:stop], True, samples[turn]))
        pos, turn = stop, turn + 1
    if turn != len(samples):
        raise ValueError(f"the rendered chat has {turn} assistant turns; the episode gives {len(samples)}")
    if pos < len(text):
        segments.append(Segment(text[pos:], False, -1))
    return [seg for seg in segments if seg.text]


def resolve_chat(tokenizer: Any, family: str | None = None) -> tuple[str, str, str]:
    """The family, assistant header and end-of-turn string of the tokenizer's chat template, checked once.

    The template renders a description and one output (a system turn, a user turn, an assistant turn and the
    generation prompt), and the markers must cut exactly that assistant turn out of it; a template that
    cannot (other markers, no system role, ...) is refused here, before any episode is rendered.
    """
    require_chat_template(tokenizer)
    name = detect_family(tokenizer, family)
    header, end = chat_markers(tokenizer, name)
    probe = [Message("description", "d", -1), Message("output", "y", 0)]
    render_chat(probe, tokenizer, name, (header, end), add_generation_prompt=True)
    return name, header, end


def render_chat(
    messages: Sequence[Message],
    tokenizer: Any,
    family: str,
    markers: tuple[str, str],
    add_generation_prompt: bool = False,
    **options: Any,
) -> list[Segment]:
    """Segments of the `chat` format with the markers of `resolve_chat`; options are those of `build_chat`
    (``system_prompt`` = ``chat_prompt``)."""
    unknown = sorted(set(options) - set(CHAT_OPTIONS))
    if unknown:
        raise TypeError(f"format 'chat' got unknown options {unknown}; expected some of {list(CHAT_OPTIONS)}")
    if "system_prompt" in options:
        if "chat_prompt" in options:
            raise TypeError("give either chat_prompt or system_prompt, not both")
        options["chat_prompt"] = options.pop("system_prompt")
    header, end = markers
    chat, samples = build_chat(messages, add_generation_prompt, **options)
    text = fix_up(_render(tokenizer, chat, add_generation_prompt), tokenizer, family, header)
    return split_scored(text, header, end, samples)
