"""POPQUORN: real email/offensiveness files, fixtures for politeness and QA (same schema), user selection."""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest

from spectrum_suite.task import SourceFormatError, SourceUnavailable
from tests.adapter_run import FIXTURES, build, inputs, outputs

OFF = "popquorn/dataset/offensiveness/raw_data.csv"
EMAIL = "popquorn/dataset/email_rewriting/raw_data.csv"


def test_an_annotator_episode_holds_only_that_annotators_ratings(shared_data):
    built = build("popquorn_individual", shared_data)
    assert [len(g.instances) for g in built.groups] == [100, 100]
    assert {m.split("/")[2] for m in built.fetched.missing} == {"politeness_rating", "question_answering"}
    raw = pd.read_csv(shared_data / OFF)
    episode = next(ep for ep in built.episodes if ep.instance.key.startswith("offensiveness/"))
    user = int(episode.instance.key.split("/")[1])
    mine = raw[raw["user_id"] == user]
    expected = sorted(
        zip(mine["text"].str.strip(), mine["offensiveness"].astype(int).astype(str), strict=True)
    )
    assert sorted(zip(inputs(episode), outputs(episode), strict=True)) == expected
    first = mine.iloc[0]
    demo = str({k: first[k] for k in ("gender", "race", "age", "occupation", "education")})
    assert episode.instance.descriptions[1].endswith(f"\nIndividual demographics: {demo}")
    assert "np." not in episode.instance.descriptions[1]


def test_users_need_more_than_five_rows_and_are_shuffled_with_the_subtask_seed(shared_data):
    built = build("popquorn_individual", shared_data, episodes=False)
    raw = pd.read_csv(shared_data / EMAIL).dropna(subset=["user_id"])
    counts = raw.groupby("user_id", sort=False).size()
    eligible = pd.Series([str(int(u)) for u in counts[counts > 5].index])
    expected = list(eligible.sample(frac=1, random_state=42))[:100]
    email = [i.key.split("/")[1] for i in built.instances if i.key.startswith("email_rewriting/")]
    assert email == expected
    assert built.fetched.dropped["popquorn email_rewriting: row without user_id"] == 80


def test_text_pools(shared_data):
    built = build("popquorn_og_categorical", shared_data)
    pools = {i.key: i for i in built.instances}
    raw = pd.read_csv(shared_data / OFF)
    assert sorted(y for _, y in pools["offensiveness"].population) == sorted(set(raw["text"].str.strip()))
    assert pools["offensiveness"].descriptions == ["Data to use as samples for this task: offensiveness"]
    assert len(built.episodes) == 2 * 20


def test_politeness_and_question_answering_fixtures():
    built = build("popquorn_individual", FIXTURES)
    keys = [i.key for i in built.instances]
    qa_user = "Non-binary_White_18-24_Student_High school diploma or equivalent"
    assert keys == ["politeness_rating/3", f"question_answering/{qa_user}"]  # users with <= 5 rows dropped
    polite, qa = built.instances
    assert sorted(y for _, y in polite.population) == ["1", "1", "2", "2", "3", "3", "4", "5"]
    assert all(x == x.strip() for x, _ in polite.population)
    x, y = qa.population[0]
    assert list(json.loads(x)) == ["passage", "question"] and json.loads(x)["passage"].endswith(
        "Mediterranean Sea."
    )
    assert json.loads(y) == {
        "groundtruth": "the Mediterranean Sea",
        "answer": "Mediterranean Sea",
        "difficulty": "1",
    }
    assert qa.descriptions[1].endswith("the user's difficulty rating of the question. (1-5)")
    assert "Individual demographics: {'gender': 'Non-binary'" in qa.descriptions[0]


def test_no_subdataset_and_a_bad_rating(tmp_path):
    with pytest.raises(SourceUnavailable, match="popquorn"):
        build("popquorn_og_categorical", tmp_path, verify=False)
    path = tmp_path / "popquorn/dataset/politeness_rating/raw_data.csv"
    path.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / "popquorn/dataset/politeness_rating/raw_data.csv", path)
    text = path.read_text().splitlines()
    text[4] = text[4].replace(",4,Woman", ",7,Woman")
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(
        SourceFormatError, match=r"raw_data\.csv: row 5: field 'politeness': expected a rating 1-5, got 7"
    ):
        build("popquorn_individual", tmp_path, verify=False)


def test_a_missing_demographic_is_none_never_nan(shared_data):
    """The email_rewriting file has no ages; the descriptions said ``'age': nan``."""
    built = build("popquorn_individual", shared_data, episodes=False)
    email = [i for i in built.instances if i.key.startswith("email_rewriting/")]
    assert email and all("'age': None" in i.descriptions[2] for i in email)
    assert not any(re.search(r": nan[,}]", d) for i in built.instances for d in i.descriptions)


@pytest.mark.parametrize(
    ("column", "problem"),
    [("revised email", "expected text, got nan"), ("original email", "expected text, got nan")],
)
def test_a_missing_single_text_field_names_the_row(tmp_path, shared_data, column, problem):
    """Was the text "nan" as the episode's input or output."""
    path = tmp_path / EMAIL
    path.parent.mkdir(parents=True)
    frame = pd.read_csv(shared_data / EMAIL)
    frame.loc[3, column] = None
    frame.to_csv(path, index=False)
    with pytest.raises(SourceFormatError, match=rf"raw_data\.csv: row 5: field '{column}': {problem}"):
        build(
            "popquorn_og_categorical" if column == "original email" else "popquorn_individual",
            tmp_path,
            verify=False,
        )
