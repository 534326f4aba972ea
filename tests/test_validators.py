"""metrics/coverage/validators.py: the 22 rules of docs/evaluation.md#validators, output cleaning and the word lists."""

from __future__ import annotations

import io
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from metrics.coverage import validators
from metrics.coverage.validator_files import LISTS, ValidatorDataUnavailable, sha256_of
from metrics.coverage.validators import (
    INCLUSION_TASKS,
    VALIDATORS,
    clean_generation,
    is_prime,
    valid_set,
    validator,
)
from spectrum_suite import fetch
from spectrum_suite.fetch import ChecksumMismatch

SPEC_EXAMPLES = {
    "car_make_model": ["Acura Integra", "Ford Mustang", "Tesla Model 3"],
    "car_brand": ["Acura", "Ford", "Tesla"],
    "claude_gerunds": ["Schlepping", "Hoisting", "Thinking"],
    "color_normal_ex": ["Green", "Red", "White"],
    "color_interesting_ex": ["Otterly Brown", "Petal Pink", "Cherry"],
    "basic_emails": ["tsor13@cs.washington.edu", "alex.jones@domain.net", "itsagoodday@gmail.com"],
    "professional_emails": [
        "tsor13@cs.washington.edu",
        "sarah.johannesburg@organization.org",
        "yash@anthropic.com",
    ],
    "element_symbols": ["Sb", "He", "W"],
    "element_names": ["Niobium", "Antimony", "Iodine"],
    "us_phone_numbers": ["(210) 346-0967", "800-895-0522"],
    "international_phone_numbers": ["+1 413-121-2591", "+44 10 2958 3938", "+81 3 8328 5625"],
    "prime_numbers": ["617", "13", "47"],
    "small_prime_numbers": ["29", "5", "97"],
    "random_seed": ["15", "420", "8392013"],
    "rng_1_10": ["3", "7", "10"],
    "rng_1_100": ["35", "94", "71"],
    "us_states_full_names": ["Kentucky", "Utah", "Oregon"],
    "us_states_abbreviations": ["KY", "UT", "OR"],
    "us_states_any_format": ["Kentucky", "UT", "Oregon"],
    "weekdays_full": ["Thursday", "Wednesday", "Sunday"],
    "weekdays_abbreviated": ["Thu", "Wed.", "SUN"],
    "weekdays_any_format": ["Monday", "Tue", "SUN"],
}
"""The example outputs of the coverage tasks (docs/tasks.md#coverage-tasks; the phone example `646 562-1938` is
tested as invalid below)."""

CASES = {
    "car_make_model": (
        ["2019 FORD MUSTANG GT", "honda civic", "Chevrolet Corvette"],
        ["Ford", "Mustang", "Ford Banana", ""],
    ),
    "car_brand": ([" Ford ", "honda", "TESLA"], ["Ford Mustang", "Fordd", ""]),
    "claude_gerunds": ([" hoisting ", "RUNNING", "fawning"], ["Think", "Thinkings", "ing", ""]),
    "color_normal_ex": ([" green ", "RED", "18th century green"], ["Greenish Purple Banana", "", "#00ff00"]),
    "color_interesting_ex": (["otterly brown", "100 Mph"], ["Not A Colour Xyzzy"]),
    "basic_emails": (
        [" a@b.co ", "first.last+tag@sub.domain.org", "x" * 64 + "@example.com", "a@-b.com"],
        [
            "a@@b.com",
            ".a@b.com",
            "a.@b.com",
            "a..b@c.com",
            "a@b..com",
            "a@.b.com",
            "a@b.c",
            "x" * 65 + "@example.com",
            "a b@c.com",
            "a@b.com more",
            "plainaddress",
        ],
    ),  # fmt: skip
    "professional_emails": (
        ["x@MIT.EDU", "jo@agency.gov", "a@b.org"],
        ["alex.jones@domain.net", "a@b.io", "a@@b.com"],
    ),
    "us_phone_numbers": (
        ["(210) 346-0967", "646 562 1938", " 800-895-0522 "],
        ["646 562-1938", "8008950522", "(210)346-0967", "210-346-09677"],
    ),
    "international_phone_numbers": (
        ["+1-2-3-4-5-6-7", "+4915123456789", " +33 1 23 45 67 89 "],
        [
            "+123456",
            "+1234567890123456",
            "1 413 121 2591",
            "+1 2 3 4 5 6 7 8",
            "+1--2345678",
            "+1 (413) 121-2591",
            "+" + "1" * 40 + "x",
        ],
    ),  # fmt: skip
    "prime_numbers": (
        ["2", "3", "617", "7919", "+7", "1000000000039", "18446744073709551557"],
        ["1", "0", "9", "007", " 7", "7 ", "seven", "-7", "3215031751", "18446744073709551615"],
    ),  # fmt: skip
    "small_prime_numbers": (["2", "97", "89"], ["101", "91", "1", "097", "", "2.0"]),
    "random_seed": (["0", "4294967295", " 42 ", "+7", "1_000"], ["4294967296", "-1", "abc", "1.5", ""]),
    "rng_1_10": (["1", "10"], ["0", "11", " 3", "03", "three"]),
    "rng_1_100": (["1", "100", "55"], ["0", "101", "07", " 7", "7.0"]),
    "us_states_full_names": (["New Hampshire", "Wyoming"], ["kentucky", "KY", "New hampshire", "Kentucky "]),
    "us_states_abbreviations": (["WY", "DE"], ["Ky", "ky", "Kentucky", "DC"]),
    "us_states_any_format": (["Kentucky", "KY", "West Virginia"], ["ky", "kentucky", "Puerto Rico"]),
    "weekdays_full": (["monday", "MONDAY", "Monday"], ["Mon", "Monday.", "mONDAY", "Funday"]),
    "weekdays_abbreviated": (["Wed.", "SUN", "Thu", "Sat"], ["Thur", "sun", "Monday", "SUN."]),
    "weekdays_any_format": (["Th", "Su", "Monday", "Tue.", "M"], ["th", "TH", "Mo", "su"]),
    "element_symbols": (["He", "Sb", "W", "Og"], ["he", " He", "He ", "Xx", "Helium"]),
    "element_names": (["Niobium", "niobium", "IODINE"], [" Iodine", "Iodine ", "Iodin", "He"]),
}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Keep the download cache per test, so no test sees a list another one cached, and stay offline."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("SPECTRUM_SUITE_OFFLINE", "1")
    yield tmp_path / "cache" / "spectrum_suite" / "files"
    for entry in VALIDATORS.values():
        if isinstance(entry, validators.ListValidator):
            entry.clear()


def test_the_22_tasks_and_the_inclusion_ones() -> None:
    assert sorted(VALIDATORS) == sorted(SPEC_EXAMPLES)
    assert len(VALIDATORS) == 22
    assert INCLUSION_TASKS == {
        "rng_1_10", "us_states_full_names", "us_states_abbreviations", "us_states_any_format",
        "weekdays_full", "weekdays_abbreviated", "weekdays_any_format",
    }  # fmt: skip
    sizes = {name: len(valid_set(name)) for name in INCLUSION_TASKS}
    assert sizes == {
        "rng_1_10": 10, "us_states_full_names": 50, "us_states_abbreviations": 50, "us_states_any_format": 100,
        "weekdays_full": 21, "weekdays_abbreviated": 21, "weekdays_any_format": 49,
    }  # fmt: skip
    assert valid_set("prime_numbers") is None
    with pytest.raises(ValueError, match="unknown validator 'primes'"):
        valid_set("primes")
    with pytest.raises(ValueError, match="unknown validator 'primes'"):
        validator("primes")


def test_same_names_as_the_registry() -> None:
    registry = pytest.importorskip("spectrum_suite.registry")
    assert sorted(t.name for t in registry.list_tasks(row_family="coverage")) == sorted(VALIDATORS)


@pytest.mark.shared
@pytest.mark.parametrize("task", sorted(SPEC_EXAMPLES))
def test_spec_examples_are_valid(task: str, shared_data: Path) -> None:
    check = validator(task, shared_data)
    assert [text for text in SPEC_EXAMPLES[task] if not check(text)] == []


@pytest.mark.shared
@pytest.mark.parametrize("task", sorted(CASES))
def test_valid_and_invalid_strings(task: str, shared_data: Path) -> None:
    check = validator(task, shared_data)
    valid, invalid = CASES[task]
    assert [text for text in valid if not check(text)] == []
    assert [text for text in invalid if check(text)] == []
    assert check(None) is False  # any exception inside a rule means invalid
    assert check(17) is False


def test_prime_test_agrees_with_trial_division_across_its_switch() -> None:
    def trial(n: int) -> bool:
        return n >= 2 and all(n % d for d in range(2, math.isqrt(n) + 1))

    numbers = list(range(0, 3000)) + list(range(10**10 - 200, 10**10 + 200))
    assert [n for n in numbers if is_prime(n) != trial(n)] == []
    carmichael = [561, 1105, 1729, 2465, 2821, 6601, 8911, 3215031751, 3825123056546413051]
    assert not any(is_prime(n) for n in carmichael)


@pytest.mark.shared
def test_default_data_dir_comes_from_the_environment(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPECTRUM_SUITE_DATA", str(shared_data))
    fresh = validators.ListValidator("car_brand", "cars", validators.word_lists.cars, validators.car_brand)
    assert fresh("Ford") is True and fresh("Mustang") is False


def test_missing_list_offline_names_task_file_and_place(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidatorDataUnavailable) as info:
        validator("color_normal_ex", data_dir=tmp_path / "empty")
    message = str(info.value)
    assert "'color_normal_ex'" in message
    assert "validators_colors/src/colornames.csv" in message
    assert "raw.githubusercontent.com/meodai/color-names/bc533465ab1db99a8488aef478fa44e2aa5d7849" in message
    assert "offline" in message and "<data_dir>/validators_colors/src/colornames.csv" in message
    with pytest.raises(ValidatorDataUnavailable, match="SPECTRUM_SUITE_DATA"):
        validator("element_names")


@pytest.mark.shared
def test_cached_copy_is_used_and_checked(shared_data: Path, _private_cache: Path) -> None:
    pinned = LISTS["elements"][0]
    target = _private_cache / pinned.path
    target.parent.mkdir(parents=True)
    shutil.copyfile(shared_data / pinned.path, target)
    assert sha256_of(target) == pinned.sha256
    assert validator("element_symbols")("Sb") is True
    target.write_text("atomicNumber, symbol, name\n1, Xx , Fake\n")
    with pytest.raises(ChecksumMismatch, match=f"not the pinned {pinned.sha256}"):
        validators.ListValidator(
            "element_names", "elements", validators.word_lists.elements, validators.element_name
        ).load()


@pytest.mark.shared
def test_a_truncated_list_in_the_data_directory_is_refused_naming_it(
    shared_data: Path, tmp_path: Path
) -> None:
    """A truncated periodic table once lowered % valid without a word; its copy is now checked like a source."""
    pinned = LISTS["elements"][0]
    target = tmp_path / "data" / pinned.path
    target.parent.mkdir(parents=True)
    lines = (shared_data / pinned.path).read_text().splitlines(keepends=True)
    target.write_text("".join(lines[: len(lines) // 2]))
    with pytest.raises(
        ChecksumMismatch, match=f"{target}: whole file: field 'sha256': .* not the pinned {pinned.sha256}"
    ):
        validator("element_names", data_dir=tmp_path / "data")
    shutil.copyfile(shared_data / pinned.path, target)
    assert validator("element_names", data_dir=tmp_path / "data")("Oganesson") is True


@pytest.mark.shared
def test_a_package_that_ships_the_verb_list_is_used(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site" / "word_forms"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('the package must be located, not imported')\n")
    copy = package / "en-verbs.txt"
    copy.write_text("tampered\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidatorDataUnavailable, match="validators_verbs/word_forms/en-verbs.txt"):
        validator("claude_gerunds", data_dir=tmp_path / "empty")  # a copy that fails the checksum is ignored
    shutil.copyfile(shared_data / LISTS["verbs"][0].path, copy)
    check = validator("claude_gerunds", data_dir=tmp_path / "empty")
    assert check("Hoisting") is True and check("Hoist") is False


class _Served:
    """Stands in for the network (urllib), serving the shared copies of the pinned files by URL."""

    def __init__(self, shared_data: Path, corrupt: bool = False) -> None:
        self.by_url = {pinned.url: shared_data / pinned.path for files in LISTS.values() for pinned in files}
        self.corrupt, self.calls = corrupt, []

    def __call__(self, url: str, timeout: float) -> io.BytesIO:
        self.calls.append(url)
        payload = self.by_url[url].read_bytes()
        return io.BytesIO(payload + b"x" if self.corrupt else payload)


@pytest.mark.shared
def test_download_once_into_the_cache_with_checksum(
    shared_data: Path, tmp_path: Path, _private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPECTRUM_SUITE_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    corrupt = _Served(shared_data, corrupt=True)
    monkeypatch.setattr(fetch.urllib.request, "urlopen", corrupt)
    with pytest.raises(ChecksumMismatch, match="not the pinned"):
        validator("element_symbols", data_dir=tmp_path / "empty")
    assert not (_private_cache / LISTS["elements"][0].path).exists()
    served = _Served(shared_data)
    monkeypatch.setattr(fetch.urllib.request, "urlopen", served)
    assert validator("element_symbols", data_dir=tmp_path / "empty")("Sb") is True
    assert served.calls == [LISTS["elements"][0].url]
    assert sha256_of(_private_cache / LISTS["elements"][0].path) == LISTS["elements"][0].sha256
    assert validator("element_names", data_dir=tmp_path / "other")("Niobium") is True
    assert len(served.calls) == 1  # read from the cache the second time


@pytest.mark.shared
def test_pinned_files_match_the_shared_data(shared_data: Path) -> None:
    for files in LISTS.values():
        for pinned in files:
            assert sha256_of(shared_data / pinned.path) == pinned.sha256, pinned.path
    assert len(LISTS["cars"]) == 35


# --- clean_generation (docs/evaluation.md#cleaning) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  Ford Mustang<end_of_turn>\nsecond line", "Ford Mustang"),
        ("\nfoo\nbar", "foo"),
        ("<pad><pad>  hello<|endoftext|> world\n", "hello world"),
        ("Blue<|im_end|>", "Blue"),
        ("x<|eot_id|>y<|end_of_text|>", "x"),
        ("   ", ""),
        ("a truncated generation with no stop", "a truncated generation with no stop"),
    ],
)
def test_clean_generation_cases(raw: str, cleaned: str) -> None:
    assert clean_generation(raw) == cleaned


def test_clean_generation_parity_versus_earliest() -> None:
    """Parity cuts at the first stop string in list order, once per pass (two passes); earliest at the first in text."""
    stops = ["X", "Y", "Z"]
    assert clean_generation("aZbYcXd", stops) == "aZb"
    assert clean_generation("aZbYcXd", stops, mode="earliest") == "a"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stop_strings": ["\n", ""]}, r"stop_strings\[1\]"),
        ({"stop_strings": "\n"}, "not one string"),
        ({"mode": "latest"}, "mode must be one of"),
    ],
)
def test_clean_generation_rejects_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        clean_generation("text", **kwargs)
    with pytest.raises(ValueError, match="expected a string"):
        clean_generation(None)
