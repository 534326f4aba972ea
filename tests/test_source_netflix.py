"""Netflix Prize adapter on fixtures of movie_titles.csv and two combined_data files (Kaggle layout)."""

from __future__ import annotations

import shutil

import pytest

from spectrum_suite.sources import netflix
from spectrum_suite.task import SourceFormatError
from tests.adapter_run import FIXTURES, build, inputs, outputs


def raw_ratings() -> dict[int, dict[str, str]]:
    titles = {}
    for line in (FIXTURES / netflix.TITLES).read_bytes().decode("latin-1").splitlines():
        mid, _, title = line.split(",", 2)
        titles[int(mid)] = title
    out: dict[int, dict[str, str]] = {}
    for name in ("combined_data_1.txt", "combined_data_2.txt"):
        movie = None
        for line in (FIXTURES / "netflix" / name).read_text().splitlines():
            if line.endswith(":"):
                movie = int(line[:-1])
            else:
                cid, rating, _ = line.split(",")
                out.setdefault(int(cid), {})[titles[movie]] = rating
    return out


def test_titles_with_commas_survive_and_each_customer_has_only_their_ratings():
    titles = netflix.read_titles(FIXTURES / netflix.TITLES)
    assert titles[6] == "Sick, Sick, Sick" and titles[10] == "Fighter, The Final Round, Part 2"
    built = build("netflix_individual_ratings", FIXTURES)
    expected = raw_ratings()
    assert sorted(i.meta["customer_id"] for i in built.instances) == sorted(
        c for c, r in expected.items() if len(r) >= 10
    )
    for inst in built.instances:
        assert dict(inst.population) == expected[inst.meta["customer_id"]]
    for ep in built.episodes:
        assert set(zip(inputs(ep), outputs(ep), strict=True)) <= set(ep.instance.population)
    assert built.fetched.dropped["customers with fewer than 10 ratings"] == 1
    assert built.fetched.missing == ["netflix/combined_data_3.txt"]


def test_movie_headers_carry_across_chunks():
    path = FIXTURES / "netflix/combined_data_1.txt"
    whole = netflix.read_ratings(path)
    for size in (2, 3, 5):
        assert netflix.read_ratings(path, chunksize=size).equals(whole)
    assert whole.groupby("movie_id").size().to_dict() == {1: 4, 2: 4, 3: 4, 4: 4, 5: 4, 6: 4}


def test_views_are_the_customers_titles():
    built = build("netflix_individual_views", FIXTURES)
    expected = raw_ratings()
    for inst in built.instances:
        assert sorted(t for _, t in inst.population) == sorted(expected[inst.meta["customer_id"]])
        assert inst.name == f"netflix_user_{inst.meta['customer_id']}_views"


def test_bad_rating_line_is_named(tmp_path):
    shutil.copytree(FIXTURES / "netflix", tmp_path / "netflix")
    target = tmp_path / "netflix/combined_data_2.txt"
    target.write_text(target.read_text().replace("822109,", "822109x,", 1))
    with pytest.raises(SourceFormatError, match=r"combined_data_2.txt: line 3: field 'customer_id,rating'"):
        build("netflix_individual_ratings", tmp_path, verify=False)


def netflix_copy(tmp_path):
    shutil.copytree(FIXTURES / "netflix", tmp_path / "netflix")
    return tmp_path / "netflix"


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("822109,5,", "822109,,", 3, "movie_id"),  # was read as a header: the movie 822109
        ("822109,5,", "822109,x,", 3, "customer_id,rating"),  # was a ValueError traceback
        ("822109,5,", "822109,4.5,", 3, "customer_id,rating"),
        ("2:", "2", None, "movie_id"),  # a header without its colon
    ],
)
def test_a_rating_line_that_is_neither_header_nor_rating_is_named(tmp_path, old, new, line, field):
    folder = netflix_copy(tmp_path)
    target = folder / "combined_data_1.txt"
    text = target.read_text()
    assert old in text
    target.write_text(text.replace(old, new, 1))
    where = rf"line {line}" if line else r"line \d+"
    with pytest.raises(SourceFormatError, match=rf"combined_data_1\.txt: {where}: field '{field}'"):
        netflix.read_ratings(target)


def test_an_empty_ratings_file_is_named(tmp_path):
    folder = netflix_copy(tmp_path)
    (folder / "combined_data_2.txt").write_text("")
    with pytest.raises(
        SourceFormatError, match=r"combined_data_2\.txt: whole file: field '\*': file is empty"
    ):
        build("netflix_individual_ratings", tmp_path, verify=False)


@pytest.mark.parametrize(
    ("content", "where", "problem"),
    [
        ("", "whole file", "file is empty"),  # was no titles: every rating dropped as untitled
        ("1,2003,Dinosaur Planet\n2,2004,\n", "line 2", "empty title"),
        ("1,2003,Dinosaur Planet\n1,2004,Isle of Man\n", "line 2", "movie 1 listed twice"),
    ],
)
def test_a_titles_file_without_usable_titles_is_named(tmp_path, content, where, problem):
    folder = netflix_copy(tmp_path)
    (folder / "movie_titles.csv").write_text(content, encoding="latin-1")
    with pytest.raises(SourceFormatError, match=rf"movie_titles\.csv: {where}: field '.*': {problem}"):
        build("netflix_individual_views", tmp_path, verify=False)
