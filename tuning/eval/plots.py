"""PNG plots of evaluation runs (matplotlib, no display needed).

Steerability: loss and exact match against the number of in-context examples, per task. Alignment: the
model's distribution against the target for a few rows, and a histogram of per-row JS divergence.
Coverage: validity against diversity per task, one colour per prompt setting. `plot_compare` overlays
the steerability curves of several runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tuning.eval.results import AlignResults, CoverResults, EvalResults, SteerResults

MAX_EXAMPLE_PANELS = 4


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _curve(metrics: Mapping[str, Any], key: str) -> tuple[list[int], list[float]]:
    """(shots, value) points of the metric's per-shot curve, skipping empty shot counts."""
    points = sorted(
        (int(s), v[key]) for s, v in (metrics.get("curve") or {}).items() if v.get(key) is not None
    )
    return [p[0] for p in points], [p[1] for p in points]


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def plot_steer_curves(runs: Sequence[tuple[str, SteerResults]], path: Path) -> Path | None:
    """Loss and exact match against shots; one line per (run, task)."""
    lines = [
        (f"{label}{task}", res.metrics)
        for label, steer in runs
        for task, res in steer.tasks.items()
        if res.metrics
    ]
    if not lines:
        return None
    plt = _plt()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for name, metrics in lines:
        ax_loss.plot(*_curve(metrics, "loss"), marker="o", label=name)
        ax_acc.plot(*_curve(metrics, "all_acc"), marker="o", label=name)
    ax_loss.set(
        xlabel="in-context examples (scored-output index j)", ylabel="loss (nats per output)", title="Loss"
    )
    ax_acc.set(
        xlabel="in-context examples (scored-output index j)", ylabel="exact match", title="Exact match"
    )
    ax_acc.set_ylim(-0.02, 1.02)
    ax_acc.legend(fontsize=7)
    return _save(fig, path)


def plot_alignment_examples(align: AlignResults, path: Path) -> Path | None:
    """Model vs target bars for the first rows of each task (at most `MAX_EXAMPLE_PANELS`)."""
    rows = [(task, ex) for task, res in align.tasks.items() for ex in res.examples][:MAX_EXAMPLE_PANELS]
    if not rows:
        return None
    plt = _plt()
    fig, axes = plt.subplots(len(rows), 1, figsize=(10, 2.6 * len(rows)), squeeze=False)
    for ax, (task, ex) in zip(axes[:, 0], rows, strict=True):
        n = len(ex.candidates)
        xs = range(n)
        ax.bar([x - 0.2 for x in xs], ex.target, width=0.4, label="target")
        ax.bar([x + 0.2 for x in xs], ex.model, width=0.4, label="model")
        ax.set_xticks(list(xs))
        ax.set_xticklabels([c[:14] for c in ex.candidates], rotation=90 if n > 8 else 0, fontsize=7)
        ax.set(title=f"{task}: {ex.instance_id}", ylabel="probability")
        ax.legend(fontsize=7)
    return _save(fig, path)


def plot_js_histogram(align: AlignResults, path: Path) -> Path | None:
    """Histogram of per-row JS divergence, stacked by task."""
    data = [(task, res.js_per_row) for task, res in align.tasks.items() if res.js_per_row]
    if not data:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist([d[1] for d in data], bins=20, range=(0.0, 0.7), stacked=True, label=[d[0] for d in data])
    ax.set(xlabel="JS divergence (nats, max ln 2)", ylabel="rows", title="Distributional alignment per row")
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_coverage(cover: CoverResults, path: Path) -> Path | None:
    """Validity against diversity, one point per task and setting."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 5))
    drawn = False
    for setting, res in cover.settings.items():
        per_task = (res.metrics or {}).get("per_task", {})
        pts = [(t, v.get("percent_valid"), v.get("unique_gens_pct")) for t, v in per_task.items()]
        pts = [p for p in pts if p[1] is not None and p[2] is not None]
        if not pts:
            continue
        drawn = True
        ax.scatter([p[1] for p in pts], [p[2] for p in pts], label=setting, alpha=0.7)
        if setting == "both":  # one set of labels keeps the plot readable
            for t, x, y in pts:
                ax.annotate(t, (x, y), fontsize=6, alpha=0.7)
    if not drawn:
        plt.close(fig)
        return None
    ax.set(xlabel="% valid", ylabel="diversity (distinct among valid)", title="Coverage per task")
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.03)
    ax.legend()
    return _save(fig, path)


def plot_run(results: EvalResults, out: Path) -> list[Path]:
    """Every plot one run has data for, written into ``out``."""
    made: list[Path | None] = []
    if results.steerability:
        made.append(plot_steer_curves([("", results.steerability)], out / "steer_curves.png"))
    if results.alignment:
        made.append(plot_alignment_examples(results.alignment, out / "align_examples.png"))
        made.append(plot_js_histogram(results.alignment, out / "align_js_hist.png"))
    if results.coverage:
        made.append(plot_coverage(results.coverage, out / "cover_validity_diversity.png"))
    return [p for p in made if p is not None]


def plot_compare(runs: Sequence[EvalResults], labels: Sequence[str], out: Path) -> list[Path]:
    """Overlaid steerability curves of several runs."""
    steer = [(f"{label}: ", r.steerability) for label, r in zip(labels, runs, strict=True) if r.steerability]
    made = plot_steer_curves(steer, out / "compare_steer_curves.png") if steer else None
    return [made] if made is not None else []
