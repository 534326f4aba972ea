"""Markdown of evaluation runs: the headline table, one run's ``report.md``, and a comparison of several runs.

Headline (`docs/evaluation.md`): steerability ``loss_geq_1`` (nats per output, lower is better) and
``all_acc_geq_1`` (greedy exact match), each the mean over the evaluated tasks; alignment mean JS divergence
(``js_divergence``, mean over the paper's seven tasks, ``states`` beside it), with the peers' total variation and,
over the scale rows, 1-Wasserstein distance beside it; coverage % valid, diversity and yield per prompt setting (the
metric's ``percent_valid``, ``unique_gens_pct`` and ``unique_valid_count``, means over tasks). Every figure is
printed with its 95% interval in brackets; each report lists the method of every figure's interval
(`tuning.eval.results.INTERVAL_METHODS`) and a comparison the method of every difference.
"""

from __future__ import annotations

from collections.abc import Sequence

from tuning.eval.compare import (
    DIFFERENCE_METHODS,
    FIGURES,
    Comparison,
    TaskDifference,
    sampling_note,
    tally_text,
)
from tuning.eval.results import (
    ALIGN_FIGURES,
    COLUMNS,
    HEADLINE_ALIGNMENT_TASKS,
    INTERVAL_METHODS,
    AlignResults,
    CoverResults,
    EvalResults,
    SteerResults,
)
from tuning.eval.uncertainty import UNTESTED

#: How each per-task figure prints.
FORMAT = {"loss_geq_1": "{:.3f}", "all_acc_geq_1": "{:.3f}", "js_divergence": "{:.4f}", "percent_valid": "{:.1%}",
          "diversity": "{:.1%}", "yield": "{:.1f}"}  # fmt: skip


def _cell(value: float | None, fmt: str, bounds: Sequence[float] | None = None) -> str:
    if value is None:
        return "—"
    text = fmt.format(value)
    return f"{text} [{fmt.format(bounds[0])}, {fmt.format(bounds[1])}]" if bounds else text


def _signed(value: float, fmt: str) -> str:
    return ("+" if value >= 0 else "−") + fmt.format(abs(value))


def _columns(runs: Sequence[EvalResults]) -> list[tuple[str, str, str]]:
    """The headline columns any of the runs has a value for."""
    heads = [r.headline for r in runs]
    return [c for c in COLUMNS if any(h.get(c[0]) is not None for h in heads)] or list(COLUMNS)


def compare_table(runs: Sequence[EvalResults], labels: Sequence[str]) -> str:
    """One markdown row per run: model, format and the headline columns with their 95% intervals."""
    cols = _columns(runs)
    lines = [
        "| run | model | format | " + " | ".join(c[1] for c in cols) + " |",
        "|---|---|---|" + "---:|" * len(cols),
    ]
    for label, run in zip(labels, runs, strict=True):
        head, bounds = run.headline, run.intervals
        cells = [_cell(head.get(key), fmt, bounds.get(key)) for key, _, fmt in cols]
        lines.append(f"| {label} | {run.model} | {run.format} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def headline_table(first: EvalResults, *others: EvalResults, labels: Sequence[str] | None = None) -> str:
    """The headline table of one run, or of several with the change of the last one against each earlier one."""
    runs = [first, *others]
    labels = list(labels) if labels is not None else (["run"] if not others else ["before", "after"])
    table = compare_table(runs, labels)
    cols = _columns(runs)
    for label, earlier in zip(labels[:-1], runs[:-1], strict=True):
        deltas = []
        for key, _, fmt in cols:
            a, b = runs[-1].headline.get(key), earlier.headline.get(key)
            deltas.append("—" if a is None or b is None else _signed(a - b, fmt))
        name = "change" if len(runs) == 2 else f"change vs {label}"
        table += f"| {name} | | | " + " | ".join(deltas) + " |\n"
    return table


def failed_note(results: EvalResults, label: str | None = None) -> str:
    """The tasks left out of a run's headline because they failed, in one markdown paragraph ("" if none)."""
    failed = results.failed_tasks
    if not failed:
        return ""
    who = f"{label}: " if label else ""
    return (
        f"**{who}{len(failed)} task(s) failed and are not in the headline:** "
        + "; ".join(f"`{task}` ({why})" for task, why in failed.items())
        + "\n"
    )


def _steer_section(steer: SteerResults) -> list[str]:
    lines = [
        "## In-context steerability",
        "",
        "| task | k | episodes | evaluated | too long | loss ≥1 | exact match ≥1 | loss/token ≥1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for task, res in steer.tasks.items():
        m, c, ci = res.metrics or {}, res.counts, res.intervals
        lines.append(
            f"| {task} | {res.k if res.k is not None else '—'} | {c.get('episodes', '—')} | {c.get('evaluated', 0)} | "
            f"{c.get('skipped_too_long', 0)} | {_cell(m.get('loss_geq_1'), '{:.3f}', ci.get('loss_geq_1'))} | "
            f"{_cell(m.get('all_acc_geq_1'), '{:.3f}', ci.get('all_acc_geq_1'))} | "
            f"{_cell(m.get('loss_per_token_geq_1'), '{:.3f}')} |"
        )
    lines += [f"- failed: {task}: {res.failed}" for task, res in steer.tasks.items() if res.failed]
    return lines + [""]


def _align_section(align: AlignResults) -> list[str]:
    lines = [
        "## Distributional alignment",
        "",
        f"Terminator included: {align.include_terminator}. The headline JS divergence is the mean over the "
        f"paper's seven tasks ({', '.join(HEADLINE_ALIGNMENT_TASKS)}) that were evaluated; any other task "
        "(`states`) is reported beside it, not in the mean.",
        "",
        "| task | rows | evaluated | too long | JS div | TV | W1 (scales) | KL | mode match | coverage |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for task, res in align.tasks.items():
        m, c = res.metrics or {}, res.counts
        figures = " | ".join(_cell(m.get(f), "{:.4f}", res.intervals.get(f)) for f in ALIGN_FIGURES)
        lines.append(
            f"| {task} | {c['rows']} | {c['evaluated']} | {c['skipped_too_long']} | {figures} | "
            f"{_cell(m.get('kl_divergence'), '{:.3f}')} | {_cell(m.get('mode_match'), '{:.3f}')} | "
            f"{_cell(m.get('coverage'), '{:.3f}')} |"
        )
    lines += [
        "",
        "TV: total variation; W1: the 1-Wasserstein distance over the rows whose candidates are an ordered scale "
        "(positions scaled to [0, 1]), — for a task without such rows.",
    ]
    lines += [f"- failed: {task}: {res.failed}" for task, res in align.tasks.items() if res.failed]
    return lines + [""]


def _cover_section(cover: CoverResults, fixed_top_k: int | None) -> list[str]:
    lines = [
        "## Valid output-space coverage",
        "",
        f"{cover.num_generations} samples per task and setting at {cover.sampling(fixed_top_k)}, "
        f"seed {cover.seed}. Intervals are for the mean over these tasks, from each task's own interval.",
        "",
        "| setting | % valid | diversity | yield | tasks too long |",
        "|---|---:|---:|---:|---:|",
    ]
    for setting, res in cover.settings.items():
        lines.append(
            f"| {setting} | {_cell(res.aggregate('percent_valid'), '{:.1%}', res.interval('percent_valid'))} | "
            f"{_cell(res.aggregate('diversity'), '{:.1%}', res.interval('diversity'))} | "
            f"{_cell(res.aggregate('yield'), '{:.1f}', res.interval('yield'))} | {len(res.skipped_too_long)} |"
        )
    lines += [f"- failed: {task}: {why}" for task, why in cover.failed.items()]
    return lines + [""]


def methods_note(methods: dict[str, str], heading: str) -> list[str]:
    """A list of how each figure's interval (or difference) is computed."""
    return [heading, "", *(f"- `{figure}`: {method}" for figure, method in methods.items()), ""]


def render_report(results: EvalResults, plots: Sequence[str]) -> str:
    """report.md: the headline table, the skipped tasks and counts, each section and its plots."""
    lines = [
        f"# Evaluation of `{results.model}` ({results.format} format)",
        "",
        f"dtype {results.dtype}, device {results.device}, {results.num_processes} process(es), context "
        f"{results.context_length} tokens, configs {', '.join(results.configs)}, total {results.timings.get('total_s')} s. "
        "Figures in brackets are 95% intervals (methods below).",
        "",
        headline_table(results),
        *methods_note(
            INTERVAL_METHODS, "Intervals (each with a coverage tested on simulated data, docs/evaluation.md):"
        ),
    ]
    if results.failed_tasks:
        lines += [failed_note(results)]
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
        lines += _cover_section(results.coverage, results.options.get("top_k")) + [
            f"![{p}]({p})\n" for p in plots if p.startswith("cover")
        ]
    return "\n".join(lines)


def _difference_cell(d: TaskDifference | None, fmt: str) -> str:
    if d is None:
        return "—"
    change = _signed(d.later - d.first, fmt)
    if d.verdict == UNTESTED:
        return f"{change} (one item: no interval) untested"
    bounds = "" if d.low is None else f" [{_signed(d.low, fmt)}, {_signed(d.high, fmt)}]"
    return f"{change}{bounds} p={d.p_value:.3g}, Holm {d.adjusted_p:.3g}: {d.verdict}"


def comparison_report(comp: Comparison) -> str:
    """compare.md: headline table, the tally of verdicts over tasks with a sign test, and per figure every task's
    values over the items both runs scored and the difference (later run minus the first) with its interval,
    p-value and Holm-corrected p-value."""
    first = comp.labels[0]
    lines = ["# Comparison", "", "Figures in brackets are 95% intervals.", "",
             compare_table(comp.runs, comp.labels)]  # fmt: skip
    lines += [
        failed_note(run, label) for label, run in zip(comp.labels, comp.runs, strict=True) if run.failed_tasks
    ]
    sampled = sampling_note(comp.runs, comp.labels)
    if sampled:
        lines += ["", sampled, ""]
    for label, found in comp.mismatches.items():
        if found:
            lines += [f"**{label} was evaluated under another protocol than {first}** (compared anyway, over the "
                      "items both scored): " + "; ".join(found), ""]  # fmt: skip
    later = comp.labels[1:]
    if later:
        lines += [f"## Better, no detectable difference, worse against {first}", "",
                  "Per figure, the tasks where the later run is better, shows no detectable difference, or is worse: a "
                  "difference counts when its p-value, after Holm's correction over the figure's tasks, is at most "
                  "0.05, so the chance of any false difference in a figure stays at or below 5%. \"no detectable "
                  "difference\" is not \"equal\": the data could not tell. A task of one episode or row is untested. "
                  "The sign test asks whether more tasks moved one way than the other, by their point differences.",
                  "",
                  "| figure | " + " | ".join(f"{label}: better/no detectable difference/worse | sign test"
                                            for label in later) + " |",
                  "|---|" + "---:|---:|" * len(later)]  # fmt: skip
        for figure, desideratum, _ in FIGURES:
            cells = []
            for label in later:
                sign = comp.sign_test(label, figure)
                test = "—" if sign.p_value is None else f"{sign.better}↑ {sign.worse}↓, p={sign.p_value:.3g}"
                cells += [tally_text(comp.tally(label, figure)), test]
            lines.append(f"| {desideratum}: {figure} | " + " | ".join(cells) + " |")
        lines += ["", *methods_note(DIFFERENCE_METHODS, "How each difference is measured:")]
    for figure, desideratum, lower in FIGURES:
        found = {
            label: {d.task: d for d in comp.differences.get(label, []) if d.figure == figure}
            for label in later
        }
        tasks = sorted({task for by_task in found.values() for task in by_task})
        if not tasks:
            continue
        fmt = FORMAT[figure]
        lines += [f"## {desideratum}: {figure} ({'lower' if lower else 'higher'} is better)", "",
                  "Values over the items both runs scored.", "",
                  "| task | " + " | ".join(f"{first} (vs {label}) | {label} | {label} − {first}" for label in later) + " |",
                  "|---|" + "---:|---:|---:|" * len(later)]  # fmt: skip
        for task in tasks:
            cells = []
            for label in later:
                d = found[label].get(task)
                if d is None:
                    cells += ["—", "—", "—"]
                    continue
                cells += [_cell(d.first, fmt, d.first_interval), _cell(d.later, fmt, d.later_interval),
                          _difference_cell(d, fmt)]  # fmt: skip
            lines.append(f"| {task} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
