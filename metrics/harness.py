"""What lm-evaluation-harness calls at run time to turn its responses into Spectrum Suite's figures.

A task folder written by ``spectrum-suite harness`` (`spectrum_suite.harness`) holds a thin ``utils.py`` that
imports these functions; its YAML files name them as ``process_results``, ``aggregation`` and filter functions
(`docs/harness.md`). Every figure comes from our metric modules, fed the values `tuning.eval` feeds them:

- **steerability**: one ``multiple_choice`` doc per scored output, choices ``[ws + output, ws]``, where ``ws`` is
  the trailing whitespace of the text before the output, which the harness would otherwise move into the
  continuation and score (``"\\n"`` after a turn header). log p(output | text before it) is the first
  log-likelihood minus the second; the output is a greedy hit when the first continuation is greedy (the
  harness only reports that for the whole of ``ws + output``). Without trailing whitespace the doc has the one
  choice ``[output]``.
- **alignment**: one doc per row, one choice per candidate (``ws`` in front of each) and ``ws`` alone last;
  its log-likelihood is subtracted from every candidate's. The 1-Wasserstein distance covers the rows flagged
  ordinal (a scale), as in the module: only those docs report it, and only tasks with such rows list it.
- **coverage**: one doc per prompt setting of a task, ``repeats`` samples each; a filter per setting
  (`samples_of`) keeps every sample of that setting's docs, and the coverage module cleans and validates them.

Two requests of one doc run in different forward passes, so the subtraction can leave a log-probability a
rounding error above 0; it is set to 0, and the aggregation warns when that rounding exceeds `ROUNDING`
(a model not in float32).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import metrics

logger = logging.getLogger(__name__)

#: Figures per family, with whether higher is better (the harness's ``higher_is_better``).
STEER_METRICS = {"loss_geq_1": False, "all_acc_geq_1": True}
ALIGN_METRICS = {
    "js_divergence": False,
    "kl_divergence": False,
    "reverse_kl": False,
    "cross_entropy": False,
    "total_variation": False,
    "wasserstein": False,
    "mode_match": True,
    "coverage": True,
}
#: Figures over the ordinal rows only: a task without such rows leaves them out of its YAML.
ORDINAL_METRICS = ("wasserstein",)
COVER_METRICS = {"percent_valid": True, "unique_gens_pct": True, "unique_valid_count": True}
#: Log-probabilities above 0 by more than this, left by subtracting two requests, are reported (nats).
ROUNDING = 1e-4

Result = tuple[float, bool]
"""One harness log-likelihood response: the summed log-probability and whether every token was the argmax."""


@functools.cache
def _module(name: str) -> Any:
    return metrics.load(name)


def _named(fn: Callable, name: str, doc: str) -> Callable:
    """``fn`` under ``name``, as the harness shows it when it records a task's config."""
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _check_count(doc: Mapping[str, Any], results: Sequence[Any], expected: int) -> None:
    if len(results) != expected:
        raise ValueError(
            f"{doc.get('task')!r} doc {doc.get('episode_id') or doc.get('instance_id')!r}: expected {expected} "
            f"harness responses, got {len(results)}; the task folder and this version of spectrum-suite disagree"
        )


# -- steerability ---------------------------------------------------------------------------------------


def steer_results(doc: Mapping[str, Any], results: Sequence[Result]) -> dict[str, dict[str, Any]]:
    """One scored output: its log-probability, greedy hit and shot count, under each steerability figure."""
    _check_count(doc, results, len(doc["choices"]))
    (whole, whole_greedy), *rest = results
    logprob, known = float(whole), True
    if rest:  # [ws + output, ws]: the whitespace's own request
        (ws, ws_greedy) = rest[0]
        logprob -= float(ws)
        known = bool(whole_greedy or ws_greedy)  # a missed whitespace token hides the output's own hit
    item = {
        "shots": int(doc["shots"]),
        "logprob": min(logprob, 0.0),
        "excess": max(logprob, 0.0),
        "greedy": int(bool(whole_greedy)),
        "greedy_known": known,
    }
    return {name: item for name in STEER_METRICS}


def _report_rounding(items: Iterable[Mapping[str, Any]], what: str) -> None:
    excess = [item["excess"] for item in items if item["excess"] > ROUNDING]
    if excess:
        logger.warning(
            "%s: %d log-probabilities came out above 0 by up to %.2g nats after subtracting the whitespace "
            "request, and were set to 0; the two requests ran with different rounding (is the model in "
            "float32?)",
            what, len(excess), max(excess),
        )  # fmt: skip


def _steerability(items: Sequence[Mapping[str, Any]], key: str) -> float:
    _report_rounding(items, key)
    figures = _module("steerability").compute(
        token_logprobs=[[item["logprob"]] for item in items],
        token_correct=[[item["greedy"]] for item in items],
        shots=[item["shots"] for item in items],
    )
    return figures[key]


def loss_geq_1(items: Sequence[Mapping[str, Any]]) -> float:
    """Mean summed NLL of the outputs with at least one in-context example (the steerability module's)."""
    return _steerability(items, "loss_geq_1")


def all_acc_geq_1(items: Sequence[Mapping[str, Any]]) -> float:
    """Greedy exact match of the same outputs; outputs whose whitespace was not greedy count as misses."""
    unknown = sum(not item["greedy_known"] for item in items)
    if unknown:
        logger.warning(
            "all_acc_geq_1: for %d of %d outputs the model's argmax after the text before the output was not "
            "its whitespace, so the harness cannot tell whether the output itself was greedy; they count as "
            "misses (a lower bound)",
            unknown, len(items),
        )  # fmt: skip
    return _steerability(items, "all_acc_geq_1")


# -- distributional alignment ---------------------------------------------------------------------------


def align_results(doc: Mapping[str, Any], results: Sequence[Result]) -> dict[str, dict[str, Any]]:
    """One alignment row: every candidate's log-probability after the prompt and the target distribution."""
    _check_count(doc, results, len(doc["choices"]))
    targets = list(doc["target_probs"])
    lls = [float(ll) for ll, _ in results]
    base = lls.pop() if len(lls) == len(targets) + 1 else 0.0  # the whitespace's own request, last
    if len(lls) != len(targets):
        raise ValueError(
            f"{doc.get('task')!r} row {doc.get('instance_id')!r}: {len(lls)} candidates scored for "
            f"{len(targets)} target probabilities"
        )
    logprobs = [ll - base for ll in lls]
    item = {
        "logprobs": [min(lp, 0.0) for lp in logprobs],
        "excess": max(0.0, *logprobs),
        "target_probs": targets,
        "ordinal": bool(doc.get("ordinal", False)),
    }
    # the distances of scales only for a scale row: the module takes them over those rows alone
    return {name: item for name in ALIGN_METRICS if item["ordinal"] or name not in ORDINAL_METRICS}


def _alignment_figure(name: str) -> Callable[[Sequence[Mapping[str, Any]]], float]:
    def figure(items: Sequence[Mapping[str, Any]]) -> float:
        _report_rounding(items, name)
        figures = _module("distributional_alignment").compute(
            predictions=[item["logprobs"] for item in items],
            references=[item["target_probs"] for item in items],
            ordinal=[item["ordinal"] for item in items],
            input_type="logprob",
        )
        if name not in figures:
            raise ValueError(f"{name} needs ordinal rows and this task has none; re-export the task folder")
        return figures[name]

    return _named(figure, name, f"The distributional-alignment module's {name} (mean over rows).")


js_divergence = _alignment_figure("js_divergence")
kl_divergence = _alignment_figure("kl_divergence")
reverse_kl = _alignment_figure("reverse_kl")
cross_entropy = _alignment_figure("cross_entropy")
total_variation = _alignment_figure("total_variation")
wasserstein = _alignment_figure("wasserstein")
mode_match = _alignment_figure("mode_match")
coverage = _alignment_figure("coverage")


# -- coverage ---------------------------------------------------------------------------------------------


def samples_of(setting: str) -> Callable[[Iterable[Sequence[str]], Sequence[Mapping[str, Any]]], list]:
    """A harness filter function that keeps every sample of the docs of prompt ``setting`` (None for the
    others, which `cover_results` then leaves out)."""

    def keep(resps: Iterable[Sequence[str]], docs: Sequence[Mapping[str, Any]]) -> list[list[str] | None]:
        return [list(r) if d["setting"] == setting else None for r, d in zip(resps, docs, strict=True)]

    return _named(keep, f"samples_of_{setting}", f"Every sample of the docs of prompt setting {setting!r}.")


def cover_results(doc: Mapping[str, Any], results: Sequence[Sequence[str] | None]) -> dict[str, Any]:
    """One (task, setting) doc: its raw samples (None when the active filter is another setting's)."""
    _check_count(doc, results, 1)
    samples = results[0]
    item = None
    if samples is not None:
        item = {
            "validator": doc["validator"],
            "generations": [str(s) for s in samples],
            "stop_strings": list(doc["stop_strings"]),
            "data_dir": doc.get("data_dir"),
        }
    return {name: item for name in COVER_METRICS}


def _coverage_figure(name: str) -> Callable[[Sequence[Mapping[str, Any] | None]], float]:
    def figure(items: Sequence[Mapping[str, Any] | None]) -> float:
        rows = [item for item in items if item is not None]
        if not rows:
            return math.nan  # no doc of this setting in the task (its prompt did not fit the context)
        stops = rows[0]["stop_strings"]
        if any(row["stop_strings"] != stops for row in rows):
            raise ValueError(
                "coverage docs of one task carry different stop strings; re-export the task folder"
            )
        figures = _module("coverage").compute(
            predictions=[row["generations"] for row in rows],
            tasks=[row["validator"] for row in rows],
            clean=True,
            stop_strings=stops,
            data_dir=rows[0]["data_dir"],
        )
        failed = {task: entry["error"] for task, entry in figures["per_task"].items() if entry.get("failed")}
        if failed:
            logger.error("%s: coverage could not validate %s; reported as NaN", name, failed)
            return math.nan
        return figures[name]

    return _named(
        figure, name, f"The coverage module's {name} of one task and prompt setting, from our cleaning."
    )


percent_valid = _coverage_figure("percent_valid")
unique_gens_pct = _coverage_figure("unique_gens_pct")
unique_valid_count = _coverage_figure("unique_valid_count")
