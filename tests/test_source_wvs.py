"""WVS adapter on a tiny SPSS file written with pyreadstat (variable and value labels as in the real file)."""

from __future__ import annotations

import pyreadstat
import pytest

from spectrum_suite.sources import wvs
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import FIXTURES, build, inputs, outputs

SAV = FIXTURES / wvs.FILE


def test_questions_use_reversed_value_labels_and_skip_long_or_excluded_variables():
    built = build("wvs_individual", FIXTURES)
    frame, meta = pyreadstat.read_sav(str(SAV))
    assert len(built.instances) == 4
    inst = {i.key: i for i in built.instances}["respondent/20070001"]
    family = "Important in life: Family\nOptions:\nA: Not at all important\nB: Not very important\nC: Rather important\nD: Very important"
    assert (family, "D") in inst.population  # code 1 = "Very important" = last of the reversed labels
    texts = {x for x, _ in inst.population}
    assert not any(t.startswith(("Justifiable: Divorce", "Year of birth")) for t in texts)  # 19 labels; Q261
    assert built.fetched.dropped["question variables skipped (no value labels or more than 17)"] == 1


def test_demographics_description_and_missing_answers():
    built = build("wvs_individual", FIXTURES)
    by_key = {i.key: i for i in built.instances}
    assert by_key["respondent/20070003"].descriptions == [
        "response ~ question + options",
        "Responses from this user: {'ISO 3166-1 numeric country code': 'Argentina', "
        "'Language in which interview was conducted': 'Spanish'}",
    ]  # N_TOWN is missing for this respondent and is skipped
    assert len(by_key["respondent/20070004"].population) == 2  # no answer to the first question (Family)
    assert built.fetched.dropped["answers whose code has no value label"] == 1
    for ep in built.episodes:
        assert set(zip(inputs(ep), outputs(ep), strict=True)) == set(ep.instance.population)


def test_unreadable_file_is_named(tmp_path):
    bad = tmp_path / wvs.FILE
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not spss")
    with pytest.raises(SourceFormatError, match=r"\.sav: whole file: .*SPSS"):
        build("wvs_individual", tmp_path, verify=False)


def test_a_code_that_is_not_a_number_names_the_row_and_variable(tmp_path):
    """Was a ValueError traceback from float()."""
    frame, meta = pyreadstat.read_sav(str(SAV))
    frame["N_TOWN"] = ["big city", "village", "town", "village"]
    labels = {k: v for k, v in meta.variable_value_labels.items() if k != "N_TOWN"}
    target = tmp_path / wvs.FILE
    target.parent.mkdir(parents=True)
    pyreadstat.write_sav(
        frame, str(target), column_labels=meta.column_names_to_labels, variable_value_labels=labels
    )
    with pytest.raises(
        SourceFormatError, match=r"\.sav: row \d \(0-based\): field 'N_TOWN': expected a number, got '"
    ):
        build("wvs_individual", tmp_path, verify=False)
