"""The model card (``README.md``) of a Spectrum-tuned model.

A card has to let someone reproduce or judge the run without the logs: the base model (and the instruct
twin its control-token rows came from), the data configs with the tasks that were skipped and the realised
per-task mix (`docs/deviations.md#training-mix-reported`), every hyperparameter, the before/after table on the
held-out tasks, and how
to sample from the model (the spectrum chat template, temperature 1, no top-k/top-p).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PAPER = "https://arxiv.org/abs/2510.06084"
CITATION = """@article{sorensen2025spectrum,
  title={Spectrum Tuning: Post-Training for Distributional Coverage and In-Context Steerability},
  author={Sorensen, Taylor and Newman, Benjamin and Moore, Jared and Park, Chan and Fisher, Jillian and
          Mireshghallah, Niloofar and Jiang, Liwei and Choi, Yejin},
  journal={arXiv preprint arXiv:2510.06084},
  year={2025}
}"""


def _yaml_list(items: list[str]) -> str:
    return "\n".join(f"  - {json.dumps(item)}" for item in items)


def _front_matter(base_model: str | None, hub_base: bool) -> str:
    lines = ["---", "library_name: transformers", "pipeline_tag: text-generation", "license: other"]
    if base_model and hub_base:
        lines.append(f"base_model: {json.dumps(base_model)}")
    lines += ["tags:", _yaml_list(["spectrum-tuning", "spectrum-suite", "trl", "sft"]), "---"]
    return "\n".join(lines)


def _hyperparameter_table(hyper: Mapping[str, Any]) -> str:
    lines = ["| setting | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in hyper.items()]
    return "\n".join(lines)


def _skipped_section(skipped: Mapping[str, str]) -> str:
    if not skipped:
        return "No task of the requested configs was skipped."
    lines = [
        f"{len(skipped)} tasks of the requested configs were **skipped** (the mix changes accordingly):",
        "",
    ]
    lines += [f"- `{name}`: {reason}" for name, reason in skipped.items()]
    return "\n".join(lines)


def _usage(repo_or_path: str) -> str:
    return f'''```python
from transformers import AutoModelForCausalLM, AutoTokenizer

tok = AutoTokenizer.from_pretrained("{repo_or_path}")
model = AutoModelForCausalLM.from_pretrained("{repo_or_path}")
messages = [
    {{"role": "description", "content": "A fair six-sided die."}},
    {{"role": "output", "content": "4"}},
    {{"role": "output", "content": "1"}},
]
enc = tok.apply_chat_template(messages, add_generation_prompt=True, return_dict=True, return_tensors="pt")
out = model.generate(**enc, max_new_tokens=16)  # generation_config: sampling, temperature 1, no top-k/top-p
print(tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True))
```'''


def render_model_card(
    *,
    run_name: str,
    base_model: str,
    instruct_twin: str | None,
    family: str,
    data: Mapping[str, Any],
    data_table: str,
    hyperparameters: Mapping[str, Any],
    before_after: str | None,
    train_result: Mapping[str, Any] | None = None,
    repo_id: str | None = None,
) -> str:
    """The card's markdown: front matter, provenance, data mix, hyperparameters, results, usage, citation."""
    hub_base = "/" in base_model and not Path(base_model).expanduser().exists()
    twin = (
        f"Before training, the input-embedding and LM-head rows of the {family} control tokens were copied "
        f"from the instruct twin `{instruct_twin}` and its config was adopted (`tuning/weight_transfer.py`)."
        if instruct_twin
        else "No instruct twin was used: the model's own control-token rows were trained as they were."
    )
    parts = [
        _front_matter(base_model, hub_base),
        f"# {run_name}",
        f"`{base_model}` post-trained with **Spectrum Tuning** ([Sorensen et al.]({PAPER})) by the Spectrum "
        "Suite `tuning` package: supervised fine-tuning on Spectrum Suite training episodes rendered in the "
        f"`spectrum` format ({family} turn tokens), with loss only on the outputs' content and end-of-turn "
        "token, the first output unscored when an episode has no description.",
        "## Base model",
        f"- base: `{base_model}`\n- prompt family: `{family}`\n- {twin}",
        "## Training data",
        f"- configs: {', '.join(f'`{c}`' for c in data.get('configs', []))} (split `train`)\n"
        f"- episodes used: {data.get('rows')} after truncation to {data.get('max_length')} tokens and "
        f"dropping episodes without a labelled token; labelled tokens: {data.get('labelled_tokens')}\n"
        f"- outputs cut by truncation keep their labels: {not data.get('drop_partial_outputs')}",
        _skipped_section(data.get("skipped", {})),
        "Realised mix (no mixing weights: each task's share follows its caps):",
        data_table,
        "## Hyperparameters",
        _hyperparameter_table(hyperparameters),
    ]
    if train_result:
        parts += ["## Training result", _hyperparameter_table(train_result)]
    parts += [
        "## Before and after, held-out tasks",
        before_after.strip() if before_after else "Not evaluated in this run (`--no-eval`).",
        "## Usage",
        "The tokenizer's chat template renders the spectrum format for roles `description`, `input` and "
        "`output`; sample with temperature 1 and no top-k/top-p (the saved generation config). Give a "
        "description, example outputs, or both; this is not a chat model.",
        _usage(repo_id or run_name),
        "## Citation",
        f"```bibtex\n{CITATION}\n```",
    ]
    return "\n\n".join(parts) + "\n"


def write_model_card(path: str | Path, **fields: Any) -> Path:
    """Render the card and write it to ``path`` (``README.md`` of the run folder)."""
    target = Path(path)
    target.write_text(render_model_card(**fields), encoding="utf-8")
    return target
