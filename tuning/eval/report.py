"""Markdown of evaluation runs: the headline table, one run's ``report.md``, several runs side by side.

Headline (`docs/evaluation.md`): steerability ``loss_geq_1`` (nats per output, lower is better) and
``all_acc_geq_1`` (greedy exact match), each the mean over the evaluated tasks; alignment mean JS divergence
(``js_divergence``, mean over tasks); coverage % valid, diversity and yield per prompt setting (the metric's
``percent_valid``, ``unique_gens_pct`` and ``unique_valid_count``, means over tasks).
"""

from __future__ import annotations

from collections.abc import Sequence

from tuning.eval.results import COLUMNS, AlignResults, CoverResults, EvalResults, SteerResults


def _cell(value: float | None, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)


def _columns(runs: Sequence[EvalResults]) -> list[tuple[str, str, str]]:
    """The headline columns any of the runs has a value for."""
    heads = [r.headline for r in runs]
    return [c for c in COLUMNS if any(h.get(c[0]) is not None for h in heads)] or list(COLUMNS)


def compare_table(runs: Sequence[EvalResults], labels: Sequence[str]) -> str:
    """One markdown row per run: model, format and the headline columns."""
    cols = _columns(runs)
    lines = [
        "| run | model | format | " + " | ".join(c[1] for c in cols) + " |",
        "|---|---|---|" + "---:|" * len(cols),
    ]
    for label, run in zip(labels, runs, strict=True):
        head = run.headline
        cells = [_cell(head.get(key), fmt) for key, _, fmt in cols]
        lines.append(f"| {label} | {run.model} | {run.format} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def headline_table(before: EvalResults, after: EvalResults | None = None) -> str:
    """Markdown headline table of one run, or of a run before and after tuning (with the change)."""
    if after is None:
        return compare_table([before], ["run"])
    cols = _columns([before, after])
    deltas = []
    for key, _, fmt in cols:
        b, a = before.headline.get(key), after.headline.get(key)
        deltas.append(
            "—" if a is None or b is None else ("+" if a - b >= 0 else "−") + fmt.format(abs(a - b))
        )
    return (
        compare_table([before, after], ["before", "after"]) + "| change | | | " + " | ".join(deltas) + " |\n"
    )


def _steer_section(steer: SteerResults) -> list[str]:
    lines = [
        "## In-context steerability",
        "",
        "| task | k | episodes | evaluated | too long | loss ≥1 | exact match ≥1 | loss/token ≥1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for task, res in steer.tasks.items():
        m, c = res.metrics or {}, res.counts
        lines.append(
            f"| {task} | {res.k if res.k is not None else '—'} | {c.get('episodes', '—')} | {c.get('evaluated', 0)} | "
            f"{c.get('skipped_too_long', 0)} | {_cell(m.get('loss_geq_1'), '{:.3f}')} | "
            f"{_cell(m.get('all_acc_geq_1'), '{:.3f}')} | {_cell(m.get('loss_per_token_geq_1'), '{:.3f}')} |"
        )
    lines += [f"- failed: {task}: {res.failed}" for task, res in steer.tasks.items() if res.failed]
    return lines + [""]


def _align_section(align: AlignResults) -> list[str]:
    lines = [
        "## Distributional alignment",
        "",
        f"Terminator included: {align.include_terminator}.",
        "",
        "| task | rows | evaluated | too long | JS div | KL | mode match | coverage |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for task, res in align.tasks.items():
        m, c = res.metrics or {}, res.counts
        lines.append(
            f"| {task} | {c['rows']} | {c['evaluated']} | {c['skipped_too_long']} | "
            f"{_cell(m.get('js_divergence'), '{:.4f}')} | {_cell(m.get('kl_divergence'), '{:.3f}')} | "
            f"{_cell(m.get('mode_match'), '{:.3f}')} | {_cell(m.get('coverage'), '{:.3f}')} |"
        )
    lines += [f"- failed: {task}: {res.failed}" for task, res in align.tasks.items() if res.failed]
    return lines + [""]


def _cover_section(cover: CoverResults) -> list[str]:
    lines = [
        "## Valid output-space coverage",
        "",
        f"{cover.num_generations} samples per task and setting; top_k = {cover.top_k}, seed {cover.seed}.",
        "",
        "| setting | % valid | diversity | yield | tasks too long |",
        "|---|---:|---:|---:|---:|",
    ]
    for setting, res in cover.settings.items():
        lines.append(
            f"| {setting} | {_cell(res.aggregate('percent_valid'), '{:.1%}')} | "
            f"{_cell(res.aggregate('diversity'), '{:.1%}')} | {_cell(res.aggregate('yield'), '{:.1f}')} | "
            f"{len(res.skipped_too_long)} |"
        )
    return lines + [""]


def render_report(results: EvalResults, plots: Sequence[str]) -> str:
    """report.md: the headline table, the skipped tasks and counts, each section and its plots."""
    lines = [
        f"# Evaluation of `{results.model}` ({results.format} format)",
        "",
        f"dtype {results.dtype}, device {results.device}, context {results.context_length} tokens, "
        f"configs {', '.join(results.configs)}, total {results.timings.get('total_s')} s.",
        "",
        headline_table(results),
    ]
    skipped = {c: t for c, t in results.skipped_tasks.items() if t}
    if skipped:
        lines += [
            "Tasks not available here (skipped): "
            + "; ".join(f"{c}: {', '.join(t)}" for c, t in skipped.items()),
            "",
        ]
    if results.steerability:
        lines += _steer_section(results.steerability) + [
            f"![{p}]({p})\n" for p in plots if p.startswith("steer")
        ]
    if results.alignment:
        lines += _align_section(results.alignment) + [
            f"![{p}]({p})\n" for p in plots if p.startswith("align")
        ]
    if results.coverage:
        lines += _cover_section(results.coverage) + [f"![{p}]({p})\n" for p in plots if p.startswith("cover")]
    return "\n".join(lines)
