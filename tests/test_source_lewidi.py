"""LeWiDi 2025: real Paraphrase/VariErrNLI train files, CSC/MP train fixtures, the missing-train message."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest

from spectrum_suite.sources import lewidi
from spectrum_suite.task import SourceFormatError, SourceUnavailable
from tests.adapter_run import FIXTURES, build, inputs, outputs

ROOT = "lewidi/LeWiDi_3-2025"


def test_paraphrase_annotator_rows_and_explanations(shared_data):
    built = build("lewidi_par_paraphrase_detection_individual", shared_data)
    data = json.loads((shared_data / ROOT / "Paraphrase/Paraphrase_train.json").read_text())
    assert [i.key for i in built.instances] == [
        "Paraphrase/Ann1",
        "Paraphrase/Ann2",
        "Paraphrase/Ann3",
        "Paraphrase/Ann4",
    ]
    ann2 = next(i for i in built.instances if i.key == "Paraphrase/Ann2")
    expected = Counter()
    for item in data.values():
        position = item["annotators"].split(",").index("Ann2")
        given = {
            "question1": item["text"]["Question1"],
            "question2": item["text"]["Question2"],
            "lang": item["lang"],
        }
        said = {
            "paraphrase_rating": int(item["annotations"]["Ann2"]),
            "explanation": item["other_info"]["explanations"][position].strip(),
        }
        expected[(json.dumps(given), json.dumps(said))] += 1
    assert Counter(ann2.population) == expected
    assert ann2.descriptions[0].endswith(
        "\nAnnotator demographics: annotator_id: Ann2; Gender: Female; Age: 30; Nationality: Chinese; "
        "Education: master student; annotator_id: Ann2"
    )  # the meta file has trailing commas: repaired before parsing
    chunks = [ep for ep in built.episodes if ep.instance.key == "Paraphrase/Ann2"]
    assert sum(len(outputs(ep)) for ep in chunks) == len(data) and all(
        len(outputs(ep)) <= 20 for ep in chunks
    )
    categorical = build("lewidi_par_paraphrase_detection_individual_categorical", shared_data, episodes=False)
    assert {y for i in categorical.instances for _, y in i.population} <= {str(k) for k in range(-5, 6)}


def test_varierrnli_repeated_annotator_gives_one_row_per_position(shared_data):
    built = build("lewidi_varierrnli_nli_detection_individual", shared_data, episodes=False)
    data = json.loads((shared_data / ROOT / "VariErrNLI/VariErrNLI_train.json").read_text())
    item = next(
        v for v in data.values() if len(set(v["annotators"].split(","))) < len(v["annotators"].split(","))
    )
    names = item["annotators"].split(",")
    twice = next(a for a in names if names.count(a) == 2)
    given = json.dumps(
        {"context": item["text"]["context"], "statement": item["text"]["statement"], "lang": item["lang"]}
    )
    inst = next(i for i in built.instances if i.key == f"VariErrNLI/{twice}")
    rows = [json.loads(y) for x, y in inst.population if x == given]
    notes = [item["other_info"]["explanations"][p].strip() for p, a in enumerate(names) if a == twice]
    assert [r["explanation"] for r in rows] == notes
    assert {r["nli_label"] for r in rows} == {item["annotations"][twice]}
    total = sum(len(v["annotators"].split(",")) for v in data.values())
    assert sum(len(i.population) for i in built.instances) == total
    assert "{Entailment, Neutral, Contradiction}" in inst.descriptions[0]


def test_csc_and_mp_need_their_train_files(shared_data):
    for task, name in (
        ("lewidi_csc_sarcasm_detection_individual", "CSC"),
        ("lewidi_mp_irony_detection_individual", "MP"),
    ):
        with pytest.raises(SourceUnavailable) as err:
            build(task, shared_data)
        message = str(err.value)
        assert f"{ROOT}/{name}/{name}_train.json" in message and "codabench.org/competitions/7192" in message


def test_csc_fixture():
    built = build("lewidi_csc_sarcasm_detection_individual", FIXTURES)
    by_key = {i.key: i for i in built.instances}
    assert list(by_key) == ["CSC/Ann0", "CSC/Ann1", "CSC/Ann2", "CSC/Ann3"]
    ann1 = by_key["CSC/Ann1"]
    assert sorted(y for _, y in ann1.population) == ["1", "5"]
    assert list(json.loads(ann1.population[0][0])) == ["context", "response", "lang"]
    assert ann1.descriptions == [
        "Given a conversational context and response, rate how sarcastic the response is on a 1-6 scale.\n"
        "Annotator demographics: Gender: Male; Age: 34; annotator_id: Ann1"
    ]
    assert (
        by_key["CSC/Ann2"].descriptions[0].endswith("Annotator demographics: Age: 29; annotator_id: Ann2")
    )  # empty field left out
    episode = next(ep for ep in built.episodes if ep.instance.key == "CSC/Ann0")
    assert outputs(episode) == ["6"] and len(inputs(episode)) == 1


def test_mp_fixture_looks_meta_up_without_ann():
    built = build("lewidi_mp_irony_detection_individual", FIXTURES, episodes=False)
    ann12 = next(i for i in built.instances if i.key == "MP/Ann12")
    assert "Gender: Male; Ethnicity simplified: White" in ann12.descriptions[0]
    assert ann12.descriptions[0].endswith("Employment status: Full-Time; annotator_id: Ann12")
    x, y = ann12.population[0]
    assert json.loads(x) == {
        "post": "The train is late again, third time this week.", "reply": "Love how reliable it is.",
        "source": "twitter", "level": "1.0", "language_variety": "gb", "lang": "en",
    }  # fmt: skip
    assert y == "1"


def test_unexpected_annotation_names_file_item_and_field(tmp_path):
    train = tmp_path / ROOT / "MP/MP_train.json"
    train.parent.mkdir(parents=True)
    (tmp_path / ROOT / "MP/MP_annotators_meta.json").write_text("{}")
    record = json.loads((FIXTURES / ROOT / "MP/MP_train.json").read_text())
    record["8"]["annotations"]["Ann12"] = "maybe"
    train.write_text(json.dumps(record))
    with pytest.raises(
        SourceFormatError,
        match=r"MP_train\.json: item 8: field 'annotations\.Ann12': unexpected value 'maybe'",
    ):
        build("lewidi_mp_irony_detection_individual", tmp_path, verify=False)
    assert lewidi.read_meta(tmp_path / ROOT / "MP/MP_annotators_meta.json") == {}


def test_builds_through_the_builder_with_annotators_split_by_instance(shared_data, tmp_path):
    import spectrum_suite

    ds = spectrum_suite.load_dataset(
        "lewidi_par_paraphrase_detection_individual", data_dir=shared_data, cache_dir=str(tmp_path)
    )
    train, validation = set(ds["train"]["instance_id"]), set(ds["validation"]["instance_id"])
    assert train and validation and not train & validation
    assert train | validation == {f"Paraphrase/Ann{i}" for i in range(1, 5)}
    row = ds["train"][0]
    assert row["task"] == "lewidi_par_paraphrase_detection_individual" and row["source"] == "lewidi"
    assert {m["role"] for m in row["messages"]} <= {"description", "input", "output"}


def write_mp(tmp_path, change):
    """The MP fixture with one record changed by ``change``, in the data directory's layout."""
    train = tmp_path / ROOT / "MP/MP_train.json"
    train.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(
        FIXTURES / ROOT / "MP/MP_annotators_meta.json", tmp_path / ROOT / "MP/MP_annotators_meta.json"
    )
    record = json.loads((FIXTURES / ROOT / "MP/MP_train.json").read_text())
    change(record["8"])
    train.write_text(json.dumps(record))


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (lambda r: r["text"].update(reply=None), "text.reply", "expected text, got None"),  # was JSON null
        (lambda r: r["text"].update(post=3), "text.post", "expected text, got 3"),  # was JSON 3
        (lambda r: r.pop("lang"), "lang", "field missing"),  # was JSON null
        (lambda r: r["other_info"].update(level="deep"), "other_info.level", "expected a number, got 'deep'"),
        (
            lambda r: r["other_info"].update(level=None),
            "other_info.level",
            "expected a number, got None",
        ),  # "None"
        (lambda r: r["other_info"].update(source=None), "other_info.source", "expected text, got None"),
    ],
)
def test_a_field_of_the_wrong_type_names_file_item_and_field(tmp_path, change, field, problem):
    write_mp(tmp_path, change)
    with pytest.raises(SourceFormatError, match=rf"MP_train\.json: item 8: field '{field}': {problem}"):
        build("lewidi_mp_irony_detection_individual", tmp_path, verify=False)


def test_an_explanation_that_is_not_text_names_the_item(tmp_path, shared_data):
    """Was the text "None" as the annotator's explanation."""
    folder = tmp_path / ROOT / "Paraphrase"
    folder.mkdir(parents=True)
    shutil.copy(shared_data / ROOT / "Paraphrase/Paraphrase_annotators_meta.json", folder)
    data = json.loads((shared_data / ROOT / "Paraphrase/Paraphrase_train.json").read_text())
    item = next(iter(data))
    data[item]["other_info"]["explanations"][1] = None
    (folder / "Paraphrase_train.json").write_text(json.dumps(data))
    with pytest.raises(
        SourceFormatError,
        match=rf"Paraphrase_train\.json: item {item}: field 'other_info.explanations\[1\]': expected text, got None",
    ):
        build("lewidi_par_paraphrase_detection_individual", tmp_path, verify=False)
