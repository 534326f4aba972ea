"""The helpsteer adapter (HelpSteer2 pairs + synthetic users) on a fixture of train.jsonl.gz."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from spectrum_suite.episodes import generate_episodes, rng_for
from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.sources import helpsteer
from spectrum_suite.task import SourceFormatError

FIXTURES = Path(__file__).parent / "fixtures"
TASK = get_task("helpsteer")


def load_raw() -> list[dict]:
    with gzip.open(FIXTURES / helpsteer.LOCAL, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_pairs_are_the_first_two_responses_of_each_prompt() -> None:
    fetched = fetch_files(TASK.name, TASK.files, FIXTURES, None)
    pairs = helpsteer.response_pairs(fetched)
    assert len(pairs) == 45
    second = pairs.iloc[1]
    assert (second["response1"], second["response2"]) == ("Third response.", "Response 0 to prompt 1.")
    assert fetched.dropped == {
        "HelpSteer2 prompt with fewer than two responses": 1,
        "HelpSteer2 response beyond the first two of its prompt": 1,
    }


def test_each_user_prefers_the_response_with_the_larger_weighted_score() -> None:
    users = TASK.build(TASK, fetch_files(TASK.name, TASK.files, FIXTURES, None))
    assert len(users) == 500
    scores: dict[tuple[str, str], list[float]] = {}
    for record in load_raw():
        scores.setdefault(
            (record["prompt"], record["response"]), [float(record[a]) for a in helpsteer.ATTRIBUTES]
        )
    weights = rng_for(TASK.params.seed, "user weights").random((500, 5)) - helpsteer.WEIGHT_SHIFT
    for i in (0, 17, 499):
        user = users[i]
        assert len(user.population) == 40
        assert len({x for x, _ in user.population}) == 40  # 40 distinct pairs
        for given, winner in user.population:
            pair = json.loads(given)
            a1 = np.dot(weights[i], scores[(pair["prompt"], pair["response1"])])
            a2 = np.dot(weights[i], scores[(pair["prompt"], pair["response2"])])
            assert winner == ("1" if a1 > a2 else "2")
        shown = {
            name: float(np.round(w, 2)) for name, w in zip(helpsteer.ATTRIBUTES, weights[i], strict=True)
        }
        assert user.descriptions[2].endswith(f"\nUser descriptionities: {shown}")
    (episode,) = list(generate_episodes(users[:1], TASK.params))
    assert episode.max_n == 40 and len(episode.samples) == 40


def test_a_non_numeric_score_names_the_line(tmp_path: Path) -> None:
    target = tmp_path / helpsteer.LOCAL
    target.parent.mkdir(parents=True)
    records = load_raw()
    records[4]["coherence"] = "high"
    with gzip.open(target, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in records)
    with pytest.raises(
        SourceFormatError, match=r"train.jsonl.gz: line 5: field 'coherence': expected a number"
    ):
        TASK.build(TASK, fetch_files(TASK.name, TASK.files, tmp_path, None))


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("verbosity", float("nan"), "expected a number 0-4, got nan"),  # was a NaN weighted score
        ("helpfulness", 7, "expected a number 0-4, got 7"),
        ("correctness", 2.5, "expected a number 0-4, got 2.5"),
        ("complexity", "3", "expected a number 0-4, got '3'"),
        ("prompt", None, "expected text, got None"),  # was the text "None"
        ("response", 12, "expected text, got 12"),
    ],
)
def test_a_score_or_text_of_the_wrong_kind_names_the_line(tmp_path: Path, field, value, problem) -> None:
    target = tmp_path / helpsteer.LOCAL
    target.parent.mkdir(parents=True)
    records = load_raw()
    records[2][field] = value
    with gzip.open(target, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in records)
    with pytest.raises(SourceFormatError, match=rf"train.jsonl.gz: line 3: field '{field}': {problem}"):
        TASK.build(TASK, fetch_files(TASK.name, TASK.files, tmp_path, None))
