"""The model card (``README.md``) of a Spectrum-tuned model.

A card has to let someone reproduce or judge the run without the logs: the base model (and the instruct
twin its control-token rows came from), the data configs with the tasks that were skipped and the realised
per-task mix (`docs/deviations.md#training-mix-reported`), every hyperparameter, the table of the start and the
tuned model on the held-out tasks, and how to sample from the model (the spectrum chat template, temperature 1, no top-k/top-p).
The metadata is `huggingface_hub`'s `ModelCardData`: base model, datasets, and a model-index with the tuned
model's held-out results, so the Hub shows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

PAPER = "https://arxiv.org/abs/2510.06084"
CITATION = """@article{sorensen2025spectrum,
  title={Spectrum Tuning: Post-Training for Distributional Coverage and In-Context Steerability},
  author={Sorensen, Taylor and Newman, Benjamin and Moore, Jared and Park, Chan and Fisher, Jillian and
          Mireshghallah, Niloofar and Jiang, Liwei and Choi, Yejin},
  journal={arXiv preprint arXiv:2510.06084},
  year={2025}
}"""


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


#: Headline key -> (metric type, name on the card) of the model-index results.
CARD_METRICS = {
    "steer/loss_geq_1": (
        "loss_geq_1",
        "steerability: loss with at least one in-context example (nats per output)",
    ),
    "steer/all_acc_geq_1": (
        "all_acc_geq_1",
        "steerability: exact match with at least one in-context example",
    ),
    "align/js_divergence": ("js_divergence", "distributional alignment: Jensen-Shannon divergence"),
    "cover/both/percent_valid": ("percent_valid", "coverage: % valid (description and examples)"),
    "cover/both/diversity": ("diversity", "coverage: diversity among valid (description and examples)"),
    "cover/both/yield": ("yield", "coverage: distinct valid outputs (description and examples)"),
}


@dataclass
class CardFacts:
    """Everything the model card says about one run."""

    run_name: str
    base_model: str
    instruct_twin: str | None
    family: str
    data: Mapping[str, Any]
    data_table: str
    hyperparameters: Mapping[str, Any]
    train_result: Mapping[str, Any]
    before_after: str | None = None
    after: Mapping[str, float | None] | None = None
    repo_id: str | None = None
    start_arm: str | None = None  # how the start arm's format was chosen (`StartKind.sentence`)

    @property
    def hub_base(self) -> bool:
        """Whether the base model is a Hub id (a local path is no ``base_model`` the Hub could link)."""
        return "/" in self.base_model and not Path(self.base_model).expanduser().exists()


def hub_datasets(tasks: Iterable[str]) -> list[str]:
    """The Hub dataset repositories the trained tasks came from (sources published elsewhere have none)."""
    from spectrum_suite.registry import TASKS

    prefix = "https://huggingface.co/datasets/"
    homepages = {TASKS[t].source.homepage for t in tasks if t in TASKS}
    return sorted(h.removeprefix(prefix) for h in homepages if h.startswith(prefix))


def card_data(facts: CardFacts) -> ModelCardData:
    """The card's metadata: base model, datasets, the model-index of the tuned model's held-out results."""
    results = [
        EvalResult(task_type="text-generation", dataset_type="spectrum-suite",
                   dataset_name="Spectrum Suite held-out tasks (spectrum format)", metric_type=kind,
                   metric_value=float(facts.after[key]), metric_name=name)
        for key, (kind, name) in CARD_METRICS.items()
        if facts.after and facts.after.get(key) is not None
    ]  # fmt: skip
    return ModelCardData(
        model_name=facts.run_name,
        base_model=facts.base_model if facts.hub_base else None,
        datasets=hub_datasets(facts.data.get("tasks", {})) or None,
        library_name="transformers",
        pipeline_tag="text-generation",
        license="other",
        tags=["spectrum-tuning", "spectrum-suite", "trl", "sft", "arxiv:2510.06084"],
        eval_results=results or None,
    )


def framework_versions() -> str:
    """The versions of the libraries that trained the model."""
    from importlib.metadata import PackageNotFoundError, version

    lines = []
    for name in ("spectrum-suite", "transformers", "trl", "torch", "datasets", "peft", "accelerate"):
        try:
            lines.append(f"- {name}: {version(name)}")
        except PackageNotFoundError:
            continue
    return "\n".join(lines)


def render_model_card(facts: CardFacts) -> str:
    """The card: metadata, provenance, data mix, hyperparameters, results, usage, versions, citation."""
    twin = (
        f"Before training, the input-embedding and LM-head rows of the {facts.family} control tokens were copied "
        f"from the instruct twin `{facts.instruct_twin}` and its config was adopted (`tuning/weight_transfer.py`)."
        if facts.instruct_twin
        else "No instruct twin was used: the model's own control-token rows were trained as they were."
    )
    data = facts.data
    parts = [
        f"# {facts.run_name}",
        f"`{facts.base_model}` post-trained with **Spectrum Tuning** ([Sorensen et al.]({PAPER})) by the Spectrum "
        "Suite `tuning` package: supervised fine-tuning on Spectrum Suite training episodes rendered in the "
        f"`spectrum` format ({facts.family} turn tokens), with loss only on the outputs' content and end-of-turn "
        "token, the first output unscored when an episode has no description.",
        "## Base model",
        f"- base: `{facts.base_model}`\n- prompt family: `{facts.family}`\n- {twin}",
        "## Training data",
        f"- configs: {', '.join(f'`{c}`' for c in data.get('configs', []))} (split `train`)\n"
        f"- episodes used: {data.get('rows')} after truncation to {data.get('max_length')} tokens and "
        f"dropping episodes without a labelled token; labelled tokens: {data.get('labelled_tokens')}\n"
        f"- outputs cut by truncation keep their labels: {not data.get('drop_partial_outputs')}",
        _skipped_section(data.get("skipped", {})),
        "Realised mix (no mixing weights: each task's share follows its caps):",
        facts.data_table,
        "## Hyperparameters",
        _hyperparameter_table(facts.hyperparameters),
        "## Training result",
        _hyperparameter_table(facts.train_result),
        "## Held-out evaluation",
        "The start model in its own format (the paper's baselines: colon for a base model, chat for an instruct "
        "one) and in the spectrum format, and the tuned model, scored on the same held-out items; 95% intervals in "
        f"brackets. The {facts.start_arm or 'start arm: format not recorded'}. Per-task differences with paired "
        "intervals, and how each arm sampled, are in `eval/comparison.md` of the run folder."
        if facts.before_after
        else "",
        facts.before_after.strip() if facts.before_after else "Not evaluated in this run (`--no-eval`).",
        "## Usage",
        "The tokenizer's chat template renders the spectrum format for roles `description`, `input` and "
        "`output`; sample with temperature 1 and no top-k/top-p (the saved generation config). Give a "
        "description, example outputs, or both; this is not a chat model.",
        _usage(facts.repo_id or facts.run_name),
        "## Framework versions",
        framework_versions(),
        "## Citation",
        f"```bibtex\n{CITATION}\n```",
    ]
    body = "\n\n".join(p for p in parts if p) + "\n"
    return str(ModelCard(f"---\n{card_data(facts).to_yaml()}\n---\n\n{body}"))


def write_model_card(path: str | Path, facts: CardFacts) -> Path:
    """Render the card and write it to ``path`` (``README.md`` of the run folder)."""
    target = Path(path)
    target.write_text(render_model_card(facts), encoding="utf-8")
    return target
