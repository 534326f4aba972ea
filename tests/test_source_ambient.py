"""AmbiEnt: row construction of the six tasks recomputed from the raw JSON lines; bad lines named."""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path

import pytest

from spectrum_suite.sources import ambient
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import build, inputs, outputs


def raw(shared_data, rel: str) -> list[dict]:
    return [
        json.loads(line) for line in (shared_data / "ambient" / rel).read_text().splitlines() if line.strip()
    ]


def test_pooled_tasks_from_ambient_full(shared_data):
    items = raw(shared_data, ambient.FULL)
    joint = build("ambient_premise_hypothesis", shared_data).instances[0]
    assert len(joint.population) == len(items)
    assert (
        None,
        json.dumps({"premise": items[0]["premise"], "hypothesis": items[0]["hypothesis"]}),
    ) in joint.population
    detect = dict(build("ambient_ambiguity_detection", shared_data).instances[0].population)
    key = json.dumps({"premise": items[0]["premise"], "hypothesis": items[0]["hypothesis"]})
    assert detect[key] == '{"premise_ambiguous": true, "hypothesis_ambiguous": false}'
    rewrite = build("ambient_disambiguation", shared_data).instances[0].population
    assert len(rewrite) == sum(len(item["disambiguations"]) for item in items)
    d = items[0]["disambiguations"][0]
    given = {
        "original_premise": items[0]["premise"],
        "original_hypothesis": items[0]["hypothesis"],
        "target_label": d["label"],
    }
    assert (
        json.dumps(given),
        json.dumps({"disambiguated_premise": d["premise"], "disambiguated_hypothesis": d["hypothesis"]}),
    ) in rewrite


def test_a_linguist_episode_holds_only_that_linguists_annotations(shared_data):
    built = build("ambient_linguist_annotations", shared_data)
    expected: dict[str, Counter] = {}
    for item in raw(shared_data, ambient.LINGUIST):
        for worker, note in zip(item["worker_ids"], item["annotations"], strict=True):
            pair = (json.dumps({"premise": item["premise"], "hypothesis": item["hypothesis"]}), note)
            expected.setdefault(worker, Counter())[pair] += 1
    assert [i.key for i in built.instances] == [f"linguist/{w}" for w in expected]
    assert len(built.episodes) == 2 * len(expected)  # n_per = 2
    for episode in built.episodes:
        worker = episode.instance.key.split("/", 1)[1]
        assert Counter(zip(inputs(episode), outputs(episode), strict=True)) <= expected[worker]


def test_interpretations_and_label_distributions(shared_data):
    items = raw(shared_data, ambient.CROWD)
    labels = build("ambient_interpretation_labels", shared_data)
    nulls = sum(label is None for item in items for label in item["labels"])
    assert labels.fetched.dropped["ambient_interpretation_labels: interpretation without a label"] == nulls
    assert len(labels.instances[0].population) == sum(len(item["labels"]) for item in items) - nulls
    dist = dict(build("ambient_annotation_distributions", shared_data).instances[0].population)
    item = items[0]
    pooled = [a for q in ambient.GOLD_QUESTIONS for a in item[q] if a is not None]
    key = json.dumps(
        {
            "premise": item["premise"],
            "hypothesis": item["hypothesis"],
            "ambiguous_sent": item["ambiguous_sent"],
        }
    )
    got = ast.literal_eval(dist[key])
    assert list(got) == [f"{lab}_{kind}" for lab in ambient.LABELS for kind in ("fraction", "percentage")]
    for label in ambient.LABELS:
        assert got[f"{label}_fraction"] == f"{pooled.count(label)}/{len(pooled)}"
        assert got[f"{label}_percentage"] == round(100 * pooled.count(label) / len(pooled), 4)


def test_bad_lines_are_named(tmp_path):
    path = tmp_path / "ambient" / ambient.LINGUIST
    path.parent.mkdir(parents=True)
    good = {"id": 1, "worker_ids": ["A"], "premise": "p", "hypothesis": "h", "annotations": ["neutral"]}
    path.write_text(json.dumps(good) + "\n" + json.dumps(good | {"worker_ids": ["A", "B"]}) + "\n")
    with pytest.raises(SourceFormatError, match=r"linguist_annotations\.jsonl: line 2: field 'annotations'"):
        build("ambient_linguist_annotations", tmp_path, verify=False)
    path.write_text(json.dumps(good | {"annotations": ["maybe"]}) + "\n")
    with pytest.raises(SourceFormatError, match=r"line 1: field 'annotations': unexpected label 'maybe'"):
        build("ambient_linguist_annotations", tmp_path, verify=False)
    full = tmp_path / "ambient" / ambient.FULL
    full.write_text('{"premise": "p", "hypothesis": "h"}\n{"premise": \n')
    with pytest.raises(SourceFormatError, match=r"ambient_full\.jsonl: line 2: field '\*': not valid JSON"):
        build("ambient_premise_hypothesis", tmp_path, verify=False)


@pytest.mark.parametrize(
    ("rel", "task", "record", "field", "problem"),
    [
        (ambient.FULL, "ambient_premise_hypothesis", {"premise": None, "hypothesis": "h"}, "premise",
         "expected text, got None"),  # was JSON null
        (ambient.FULL, "ambient_disambiguation",
         {"premise": "p", "hypothesis": "h", "disambiguations": [{"premise": 4, "hypothesis": "h", "label": "neutral"}]},
         r"disambiguations\[0\].premise", "expected text, got 4"),
        (ambient.LINGUIST, "ambient_linguist_annotations",
         {"id": 1, "worker_ids": [None], "premise": "p", "hypothesis": "h", "annotations": ["neutral"]},
         r"worker_ids\[0\]", "expected text, got None"),  # was the linguist "None"
        (ambient.CROWD, "ambient_interpretation_labels",
         {"premise": "p", "hypothesis": "h", "ambiguous_sent": "p", "interpretations": [None], "labels": ["neutral"]},
         r"interpretations\[0\]", "expected text, got None"),
        (ambient.CROWD, "ambient_annotation_distributions",
         {"premise": "p", "hypothesis": "h", "ambiguous_sent": 0, "q0_gold": ["neutral"]},
         "ambiguous_sent", "expected text, got 0"),
    ],
)  # fmt: skip
def test_a_sentence_that_is_not_text_is_named(tmp_path, rel, task, record, field, problem):
    path = tmp_path / "ambient" / rel
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(SourceFormatError, match=rf"{Path(rel).name}: line 1: field '{field}': {problem}"):
        build(task, tmp_path, verify=False)
