"""Baby names adapter on a names.zip fixture (headerless ``yobYYYY.txt`` files, as SSA publishes them)."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from spectrum_suite.sources import babynames
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import FIXTURES, build, outputs


def test_configurations_match_the_reference_draws():
    # RandomState(42): randint(0,3)=2 -> F ... the same calls in the same order as the reference
    rs = np.random.RandomState(42)
    expected = (
        babynames.SEXES[rs.randint(0, 3)],
        babynames.STRATEGIES[rs.randint(0, 2)],
        babynames.TOP_K[rs.randint(0, 4)],
    )
    config = babynames.configuration(0)
    assert (config["sex"], config["sampling_strategy"], config["top_k"]) == expected
    assert {babynames.configuration(i)["timespan"] for i in range(500)} <= set(babynames.TIMESPANS)


def test_first_line_of_each_year_is_kept_and_population_probabilities_follow_counts():
    years = babynames.read_years(FIXTURES / babynames.FILE)
    assert years[1880]["name"].iloc[0] == "Mary"  # the top girl name, lost by the reference's header=0
    names, probs = babynames.name_list(years[2023], "F", "population", 10)
    assert names == ["Olivia", "Emma", "Charlotte"]
    assert probs == pytest.approx([15270 / 41393, 13527 / 41393, 12596 / 41393])
    names, probs = babynames.name_list(years[2023], "balanced", "population", 4)
    assert names == ["Liam", "Noah", "Olivia", "Emma"]
    assert sum(probs[:2]) == pytest.approx(0.5) and sum(probs[2:]) == pytest.approx(0.5)
    assert babynames.name_list(years[2023], "M", "uniform", 2) == (["Liam", "Noah"], None)


def test_instances_and_descriptions_and_absent_years():
    built = build("babynames", FIXTURES)
    kept = [
        i for i in range(500) if babynames.configuration(i)["timespan"] in ("all", 1880, 1881, 2022, 2023)
    ]
    assert [inst.key for inst in built.instances] == [f"config/{i}" for i in kept]
    assert built.fetched.dropped["configurations whose year file is absent"] == 500 - len(kept)
    assert len(built.fetched.missing) == len(babynames.YEARS) - 4
    for ep in built.episodes:
        config = ep.instance.meta
        assert ep.instance.descriptions == [babynames.description(config)]
        assert sorted(outputs(ep)) == sorted(
            n for _, n in ep.instance.population
        )  # the whole list, no repeats
    desc = babynames.description({"sex": "M", "sampling_strategy": "uniform", "top_k": 10, "timespan": 2022})
    assert desc == "The following are drawn from the list of top 10 baby boy names in the US in 2022"


def test_bad_sex_is_named_with_member_and_line(tmp_path):
    target = tmp_path / babynames.FILE
    target.parent.mkdir(parents=True)
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("yob1990.txt", "Jessica,F,46470\nMichael,X,65282\n")
    with pytest.raises(SourceFormatError, match=r"yob1990.txt: line 2: field 'sex'"):
        build("babynames", tmp_path, verify=False)


@pytest.mark.parametrize(
    ("member", "field", "problem"),
    [
        (b"Jessica,F,46470\nMichael,M,0\n", "line 2: field 'count'", r"expected a number in 1..inf, got 0"),
        (b"Jessica,F,46470\nMichael,M,-5\n", "line 2: field 'count'", r"expected a number in 1..inf, got -5"),
        (b"Jessica,F,46470\nMichael,M,12.5\n", "line 2: field 'count'", r"expected an integer, got 12.5"),
        (b"Jessica,F,46470\nMichael,M,many\n", "line 2: field 'count'", r"expected a number, got 'many'"),
        (b"Jessica,F,46470\n,M,12\n", "line 2: field 'name'", "expected name,sex,count with a name"),
        (b"", r"whole file: field '\*'", "file is empty"),  # was a pandas EmptyDataError
        (
            "Jos\u00e9,M,12\n".encode("latin-1"),
            r"whole file: field '\*'",
            "not readable text",
        ),  # was a traceback
    ],
)
def test_a_year_file_line_that_is_not_a_name_count_is_named(tmp_path, member, field, problem):
    """Zero, negative and fractional counts were kept (a 0 count made an all-zero weight list)."""
    target = tmp_path / babynames.FILE
    target.parent.mkdir(parents=True)
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("yob1990.txt", member)
    with pytest.raises(SourceFormatError, match=rf"yob1990.txt: {field}: {problem}"):
        build("babynames", tmp_path, verify=False)
