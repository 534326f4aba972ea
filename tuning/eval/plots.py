"""PNG plots of evaluation runs (matplotlib, no display needed).

Steerability: loss and exact match against the number of in-context examples, per task, with 95% bands.
Alignment: the model's distribution against the target for a few rows, and a histogram of per-row JS
divergence. Coverage: validity against diversity per task with 95% error bars, one marker per prompt setting.
`plot_compare` overlays the steerability curves and the coverage points of several runs. Shares are on percent
axes; every series has its own marker and line style.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tuning.eval.results import (
    STEER_HEADLINES,
    AlignResults,
    CoverResults,
    EvalResults,
    SteerResults,
    SteerTask,
    steer_estimate,
)  # fmt: skip

MAX_EXAMPLE_PANELS = 4
#: Resamples per band point of the steerability curves: a drawn band needs fewer than a reported interval.
BAND_RESAMPLES = 1000


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


#: Marker and line style per series, so that overlapping series stay distinguishable in print and grey scale.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
STYLES = ("-", "--", ":", "-.")


def _style(index: int) -> dict[str, Any]:
    return {
        "marker": MARKERS[index % len(MARKERS)],
        "linestyle": STYLES[(index // len(MARKERS)) % len(STYLES)],
    }


def _curve(
    name: str, task: SteerTask, record: str
) -> tuple[list[int], list[float], list[float], list[float]]:
    """Per scored-output index j: the mean of ``record`` and its 95% interval, by the method of the headline
    figure of that record (`tuning.eval.results.INTERVAL_METHODS`); a single output gets no band."""
    o = task.outputs
    figure = next(f for f, r in STEER_HEADLINES.items() if r == record)
    xs, means, lows, highs = [], [], [], []
    for j in sorted({int(s) for s in o["shots"]}):
        at = [i for i, s in enumerate(o["shots"]) if int(s) == j]
        episodes = [task.episode_ids[int(o["episode"][i])] for i in at]
        found = steer_estimate(f"{name}@{j}", figure, episodes, [o[record][i] for i in at], BAND_RESAMPLES)
        low, high = found.interval or (found.value, found.value)
        xs.append(j), means.append(found.value), lows.append(low), highs.append(high)
    return xs, means, lows, highs


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def plot_steer_curves(runs: Sequence[tuple[str, SteerResults]], path: Path) -> Path | None:
    """Loss and exact match against shots with 95% bands; one line per (run, task)."""
    lines = [
        (f"{label}{task}", task, res)
        for label, steer in runs
        for task, res in steer.tasks.items()
        if res.outputs
    ]
    if not lines:
        return None
    plt = _plt()
    from matplotlib.ticker import PercentFormatter

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for index, (name, task_name, task) in enumerate(lines):
        for ax, record in ((ax_loss, "loss"), (ax_acc, "all_acc")):
            xs, means, lows, highs = _curve(task_name, task, record)
            (line,) = ax.plot(xs, means, label=name, markersize=4, **_style(index))
            ax.fill_between(xs, lows, highs, color=line.get_color(), alpha=0.15, linewidth=0)
    ax_loss.set(
        xlabel="in-context examples (scored-output index j)", ylabel="loss (nats per output)", title="Loss"
    )
    ax_acc.set(
        xlabel="in-context examples (scored-output index j)", ylabel="exact match", title="Exact match"
    )
    ax_acc.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax_acc.set_ylim(-0.02, 1.02)
    ax_acc.legend(fontsize=7)
    fig.text(0.5, 0.005, "bands: 95% intervals (loss: studentized cluster bootstrap; exact match: clustered Wilson)",
             ha="center", fontsize=7)  # fmt: skip
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


def _coverage_points(ax: Any, res: Any, label: str, index: int, annotate: bool) -> bool:
    """One series of (% valid, diversity) points with their 95% intervals as error bars; False if empty."""
    per_task = (res.metrics or {}).get("per_task", {})
    pts = [(t, v.get("percent_valid"), v.get("unique_gens_pct")) for t, v in per_task.items()]
    pts = [p for p in pts if p[1] is not None and p[2] is not None]
    if not pts:
        return False
    bounds = [res.intervals.get(t, {}) for t, _, _ in pts]
    xerr = [[x - b.get("percent_valid", [x, x])[0] for (_, x, _), b in zip(pts, bounds, strict=True)],
            [b.get("percent_valid", [x, x])[1] - x for (_, x, _), b in zip(pts, bounds, strict=True)]]  # fmt: skip
    yerr = [[y - b.get("diversity", [y, y])[0] for (_, _, y), b in zip(pts, bounds, strict=True)],
            [b.get("diversity", [y, y])[1] - y for (_, _, y), b in zip(pts, bounds, strict=True)]]  # fmt: skip
    ax.errorbar([p[1] for p in pts], [p[2] for p in pts], xerr=xerr, yerr=yerr, fmt=MARKERS[index % len(MARKERS)],
                label=label, alpha=0.7, elinewidth=0.6, capsize=2, markersize=5)  # fmt: skip
    if annotate:  # one set of labels keeps the plot readable
        for t, x, y in pts:
            ax.annotate(t, (x, y), fontsize=6, alpha=0.7)
    return True


def _coverage_axes(ax: Any, title: str) -> None:
    from matplotlib.ticker import PercentFormatter

    ax.set(xlabel="% valid", ylabel="diversity (distinct among valid)", title=title)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.03)
    ax.legend(fontsize=7)


def plot_coverage(cover: CoverResults, path: Path) -> Path | None:
    """Validity against diversity, one point per task and setting, with their 95% intervals (Wilson, jackknife)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 5))
    drawn = [
        _coverage_points(ax, res, setting, i, setting == "both")
        for i, (setting, res) in enumerate(cover.settings.items())
    ]
    if not any(drawn):
        plt.close(fig)
        return None
    _coverage_axes(ax, "Coverage per task")
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
    """Overlaid steerability curves of several runs, and their coverage points (description and examples)."""
    steer = [(f"{label}: ", r.steerability) for label, r in zip(labels, runs, strict=True) if r.steerability]
    made = [plot_steer_curves(steer, out / "compare_steer_curves.png") if steer else None]
    covered = [
        (label, r.coverage.settings.get("both")) for label, r in zip(labels, runs, strict=True) if r.coverage
    ]
    covered = [(label, res) for label, res in covered if res is not None]
    if covered:
        plt = _plt()
        fig, ax = plt.subplots(figsize=(7, 5))
        if any([_coverage_points(ax, res, label, i, i == 0) for i, (label, res) in enumerate(covered)]):
            _coverage_axes(ax, "Coverage per task (description and examples)")
            made.append(_save(fig, out / "compare_coverage.png"))
        else:
            plt.close(fig)
    return [p for p in made if p is not None]
