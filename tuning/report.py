"""Headline numbers and markdown tables of evaluation runs (``results.json`` -> ``report.md``).

Headline (`spec/evaluations.md`): steerability ``loss_geq_1`` (nats per output, lower is better) and
``all_acc_geq_1`` (greedy exact match), each the mean over the evaluated tasks; alignment
``js_divergence.mean`` (mean over tasks); coverage % valid, diversity and yield per prompt setting
(the metric's aggregates over tasks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: (headline key, column title, how to print it)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("steer/loss_geq_1", "loss ≥1 ↓", "{:.3f}"),
    ("steer/all_acc_geq_1", "exact match ≥1 ↑", "{:.3f}"),
    ("align/js_divergence", "JS div ↓", "{:.4f}"),
    ("cover/both/percent_valid", "% valid (both) ↑", "{:.1%}"),
    ("cover/both/diversity", "diversity (both) ↑", "{:.1%}"),
    ("cover/both/yield", "yield (both) ↑", "{:.1f}"),
)
COVERAGE_KEYS = {
    "percent_valid": "percent_valid",
    "diversity": "unique_gens_pct",
    "yield": "unique_valid_count",
}


def coverage_aggregate(metrics: Mapping[str, Any], name: str) -> float | None:
    """The across-task mean of one coverage metric, wherever the metric module put it."""
    for key in (f"aggregate/{name}_mean", f"{name}_mean"):
        if key in metrics and metrics[key] is not None:
            return float(metrics[key])
    agg = metrics.get("aggregate")
    if isinstance(agg, Mapping):
        for key in (f"{name}_mean", name):
            if agg.get(key) is not None:
                return float(agg[key])
    per_task = metrics.get("per_task") or metrics.get("tasks")
    if isinstance(per_task, Mapping) and per_task:
        values = [
            float(v[name]) for v in per_task.values() if isinstance(v, Mapping) and v.get(name) is not None
        ]
        return sum(values) / len(values) if values else None
    return None


def headline(results: Mapping[str, Any]) -> dict[str, float | None]:
    """Flat headline numbers of one run (keys as in `COLUMNS`, plus every coverage setting)."""
    out: dict[str, float | None] = {}
    steer = results.get("steerability")
    if steer:
        out["steer/loss_geq_1"] = steer["headline"].get("loss_geq_1")
        out["steer/all_acc_geq_1"] = steer["headline"].get("all_acc_geq_1")
    align = results.get("alignment")
    if align:
        out["align/js_divergence"] = align["headline"].get("js_divergence.mean")
    cover = results.get("coverage")
    if cover:
        for setting, res in cover["settings"].items():
            metrics = res.get("metrics") or {}
            for short, name in COVERAGE_KEYS.items():
                out[f"cover/{setting}/{short}"] = coverage_aggregate(metrics, name)
    return out


def _cell(value: float | None, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)


def _columns(runs: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """The headline columns any of the runs has a value for."""
    heads = [r.get("headline") or headline(r) for r in runs]
    return [c for c in COLUMNS if any(h.get(c[0]) is not None for h in heads)]


def compare_table(runs: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> str:
    """One markdown row per run: model, format and the headline columns."""
    cols = _columns(runs) or list(COLUMNS)
    lines = [
        "| run | model | format | " + " | ".join(c[1] for c in cols) + " |",
        "|---|---|---|" + "---:|" * len(cols),
    ]
    for label, run in zip(labels, runs, strict=True):
        head = run.get("headline") or headline(run)
        cells = [_cell(head.get(key), fmt) for key, _, fmt in cols]
        lines.append(f"| {label} | {run.get('model')} | {run.get('format')} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def headline_table(results_before: Mapping[str, Any], results_after: Mapping[str, Any] | None = None) -> str:
    """Markdown headline table of one run, or of a run before and after tuning (with the change)."""
    if results_after is None:
        return compare_table([results_before], ["run"])
    table = compare_table([results_before, results_after], ["before", "after"])
    before = results_before.get("headline") or headline(results_before)
    after = results_after.get("headline") or headline(results_after)
    cols = _columns([results_before, results_after]) or list(COLUMNS)
    deltas = []
    for key, _, fmt in cols:
        b, a = before.get(key), after.get(key)
        deltas.append(
            "—" if a is None or b is None else ("+" if a - b >= 0 else "−") + fmt.format(abs(a - b))
        )
    return table + "| change | | | " + " | ".join(deltas) + " |\n"


def _steer_section(steer: Mapping[str, Any]) -> list[str]:
    lines = [
        "## In-context steerability",
        "",
        "| task | k | episodes | evaluated | too long | loss ≥1 | exact match ≥1 | loss/token ≥1 |",
    ]
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for task, res in steer["tasks"].items():
        m, c = res.get("metrics") or {}, res["counts"]
        lines.append(
            f"| {task} | {res['k']} | {c['episodes']} | {c['evaluated']} | {c['skipped_too_long']} | "
            f"{_cell(m.get('loss_geq_1'), '{:.3f}')} | {_cell(m.get('all_acc_geq_1'), '{:.3f}')} | "
            f"{_cell(m.get('loss_per_token_geq_1'), '{:.3f}')} |"
        )
    lines += [f"- failed: {task}: {why}" for task, why in steer.get("failed", {}).items()]
    return lines + [""]


def _align_section(align: Mapping[str, Any]) -> list[str]:
    lines = [
        "## Distributional alignment",
        "",
        f"Terminator included: {align.get('include_terminator', False)}.",
        "",
    ]
    lines += [
        "| task | rows | evaluated | too long | JS div | KL | mode match | coverage |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for task, res in align["tasks"].items():
        m, c = res.get("metrics") or {}, res["counts"]
        lines.append(
            f"| {task} | {c['rows']} | {c['evaluated']} | {c['skipped_too_long']} | "
            f"{_cell(m.get('js_divergence.mean'), '{:.4f}')} | {_cell(m.get('kl_divergence.mean'), '{:.3f}')} | "
            f"{_cell(m.get('mode_match.mean'), '{:.3f}')} | {_cell(m.get('coverage.mean'), '{:.3f}')} |"
        )
    lines += [f"- failed: {task}: {why}" for task, why in align.get("failed", {}).items()]
    return lines + [""]


def _cover_section(cover: Mapping[str, Any]) -> list[str]:
    lines = [
        "## Valid output-space coverage",
        "",
        f"{cover['num_generations']} samples per task and setting; top_k = {cover['top_k']}, seed {cover['seed']}.",
        "",
        "| setting | % valid | diversity | yield | tasks too long |",
        "|---|---:|---:|---:|---:|",
    ]
    for setting, res in cover["settings"].items():
        m = res.get("metrics") or {}
        lines.append(
            f"| {setting} | {_cell(coverage_aggregate(m, 'percent_valid'), '{:.1%}')} | "
            f"{_cell(coverage_aggregate(m, 'unique_gens_pct'), '{:.1%}')} | "
            f"{_cell(coverage_aggregate(m, 'unique_valid_count'), '{:.1f}')} | {len(res['skipped_too_long'])} |"
        )
    return lines + [""]


def render_report(results: Mapping[str, Any], plots: Sequence[str]) -> str:
    """report.md: the headline table, the skipped tasks and counts, each section and its plots."""
    lines = [
        f"# Evaluation of `{results['model']}` ({results['format']} format)",
        "",
        f"dtype {results['dtype']}, device {results['device']}, context {results.get('context_length')} tokens, "
        f"configs {', '.join(results['configs'])}, total {results['timings'].get('total_s')} s.",
        "",
        headline_table(results),
    ]
    skipped = {c: t for c, t in results.get("skipped_tasks", {}).items() if t}
    if skipped:
        lines += [
            "Tasks not available here (skipped): "
            + "; ".join(f"{c}: {', '.join(t)}" for c, t in skipped.items()),
            "",
        ]
    sections = (
        ("steerability", _steer_section, "steer"),
        ("alignment", _align_section, "align"),
        ("coverage", _cover_section, "cover"),
    )
    for key, render, prefix in sections:
        if results.get(key):
            lines += render(results[key])
            lines += [f"![{p}]({p})\n" for p in plots if p.startswith(prefix)]
    return "\n".join(lines)
