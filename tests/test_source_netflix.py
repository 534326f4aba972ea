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
        build("netflix_individual_ratings", tmp_path)
