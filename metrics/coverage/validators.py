"""The validators of the 22 diversity/validity tasks, exactly as `docs/evaluation.md#validators` states them.

A validator takes one cleaned generation (see `clean_generation`) and says whether it is a valid answer
to its task. Any exception inside a rule means "invalid". Four validators need an external word list;
those lists are found (or downloaded once, checksummed) on first use, never at import: see
`validator_files`. ``validator(name, data_dir)`` loads the list up front, so a missing list fails there
with a clear message instead of silently making every generation invalid.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from functools import partial

from spectrum_suite.fetch import resolve_data_dir
from spectrum_suite.sources.coverage_tasks import WORD_LIST

from . import word_lists
from .cleaning import DEFAULT_STOP_STRINGS, clean_generation
from .validator_files import list_files

US_STATES = (
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware",
    "Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky",
    "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi", "Missouri",
    "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey", "New Mexico", "New York",
    "North Carolina", "North Dakota", "Ohio", "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island",
    "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah", "Vermont", "Virginia", "Washington",
    "West Virginia", "Wisconsin", "Wyoming",
)  # fmt: skip
US_STATE_CODES = tuple(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH "
    "OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY".split()
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS_FULL = WEEKDAYS + tuple(day.upper() for day in WEEKDAYS) + tuple(day.lower() for day in WEEKDAYS)
WEEKDAYS_SHORT = tuple(day[:3] for day in WEEKDAYS)
WEEKDAYS_ABBREVIATED = (
    WEEKDAYS_SHORT + tuple(f"{day}." for day in WEEKDAYS_SHORT) + tuple(day.upper() for day in WEEKDAYS_SHORT)
)
WEEKDAY_LETTERS = ("M", "T", "W", "Th", "F", "Sa", "Su")

VALID_SETS: dict[str, frozenset[str]] = {
    "rng_1_10": frozenset(str(value) for value in range(1, 11)),
    "us_states_full_names": frozenset(US_STATES),
    "us_states_abbreviations": frozenset(US_STATE_CODES),
    "us_states_any_format": frozenset(US_STATES + US_STATE_CODES),
    "weekdays_full": frozenset(WEEKDAYS_FULL),
    "weekdays_abbreviated": frozenset(WEEKDAYS_ABBREVIATED),
    "weekdays_any_format": frozenset(WEEKDAYS_FULL + WEEKDAYS_ABBREVIATED + WEEKDAY_LETTERS),
}
"""The finite valid sets of the Inclusion tasks (exact, case-sensitive membership)."""

INCLUSION_TASKS = frozenset(VALID_SETS)

EMAIL_PATTERN = re.compile(r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$")
PROFESSIONAL_SUFFIXES = (".com", ".org", ".edu", ".gov")
US_PHONE_PATTERNS = (
    re.compile(r"^\d{3}-\d{3}-\d{4}$"),
    re.compile(r"^\(\d{3}\) \d{3}-\d{4}$"),
    re.compile(r"^\d{3} \d{3} \d{4}$"),
)
INTERNATIONAL_PHONE_PATTERN = re.compile(r"^\+\d{1,3}([-\s]?\d+)+$")
RANDOM_SEED_LIMIT = 2**32
MILLER_RABIN_BASES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
MILLER_RABIN_EXACT_BELOW = 3_317_044_064_679_887_385_961_981
"""Below this bound, Miller-Rabin with the 13 bases above is deterministic, i.e. agrees with trial division."""


# --- rules on plain text --------------------------------------------------------------------------------


def _email_part_ok(part: str, longest: int) -> bool:
    return (
        1 <= len(part) <= longest and not part.startswith(".") and not part.endswith(".") and ".." not in part
    )


def basic_email(text: str) -> bool:
    """The pattern, exactly one ``@``, and RFC-like length and dot rules on both sides."""
    text = text.strip()
    if not EMAIL_PATTERN.match(text) or text.count("@") != 1:
        return False
    local, domain = text.split("@")
    return _email_part_ok(local, 64) and _email_part_ok(domain, 255)


def professional_email(text: str) -> bool:
    """A basic email whose domain ends in .com, .org, .edu or .gov (this covers the reference's whitelist)."""
    return basic_email(text) and text.strip().split("@")[1].lower().endswith(PROFESSIONAL_SUFFIXES)


def us_phone_number(text: str) -> bool:
    text = text.strip()
    return any(pattern.fullmatch(text) for pattern in US_PHONE_PATTERNS)


def international_phone_number(text: str) -> bool:
    """``+``, 7-15 digits, the pattern, at most 6 separators. The digit count is checked before the
    pattern, which also bounds the pattern's backtracking on long digit runs."""
    text = text.strip()
    if not text.startswith("+"):
        return False
    if not 7 <= len(re.sub(r"\D", "", text[1:])) <= 15:
        return False
    if not INTERNATIONAL_PHONE_PATTERN.match(text):
        return False
    return text.count(" ") + text.count("-") <= 6


def is_prime(value: int) -> bool:
    """Primality with the verdict of trial division up to sqrt(n).

    Trial division itself would take hours on the 20-digit numbers a sampler can emit, so small numbers
    use it and larger ones a Miller-Rabin test that is exact below 3.3e24 (and, above, wrong with
    probability below 4**-13).
    """
    if value < 2:
        return False
    if value < 4:
        return True
    if value % 2 == 0:
        return False
    if value < 10**10:
        return all(value % divisor for divisor in range(3, math.isqrt(value) + 1, 2))
    odd, twos = value - 1, 0
    while odd % 2 == 0:
        odd, twos = odd // 2, twos + 1
    for base in MILLER_RABIN_BASES:
        witness = pow(base, odd, value)
        if witness in (1, value - 1):
            continue
        for _ in range(twos - 1):
            witness = pow(witness, 2, value)
            if witness == value - 1:
                break
        else:
            return False
    return True


def _plain_integer(text: str) -> int:
    """``int(text)`` for text without surrounding whitespace or a leading zero; raises otherwise."""
    if text != text.strip() or (text.startswith("0") and len(text) > 1):
        raise ValueError(f"not a plain integer: {text!r}")
    return int(text)


def prime_number(text: str) -> bool:
    return is_prime(_plain_integer(text))


def small_prime_number(text: str) -> bool:
    value = _plain_integer(text)
    return value < 100 and is_prime(value)


def random_seed(text: str) -> bool:
    """Python ``int()`` semantics: whitespace, a leading ``+`` and ``_`` are accepted, for parity
    (`docs/deviations.md#validator-tests-and-parsing`)."""
    return 0 <= int(text) < RANDOM_SEED_LIMIT


def rng_1_100(text: str) -> bool:
    return 1 <= _plain_integer(text) <= 100


def _member(valid: frozenset[str], text: str) -> bool:
    return text in valid


# --- rules on a word list -------------------------------------------------------------------------------


def car_make_model(text: str, cars: word_lists.Cars) -> bool:
    """Some (make, model) pair of the tables has both lower-cased parts inside the lower-cased text."""
    lowered = text.lower()
    return any(
        make in lowered and any(model in lowered for model in models)
        for make, models in cars.models_by_make.items()
    )


def car_brand(text: str, cars: word_lists.Cars) -> bool:
    return text.strip().lower() in cars.makes


def stripped_lower_in(text: str, words: frozenset[str]) -> bool:
    """``lower(strip(text))`` is one of the words (gerunds, colour names)."""
    return text.strip().lower() in words


def element_symbol(text: str, elements: word_lists.Elements) -> bool:
    return text == text.strip() and text in elements.symbols


def element_name(text: str, elements: word_lists.Elements) -> bool:
    return text == text.strip() and text.lower() in elements.names


# --- registry --------------------------------------------------------------------------------------------


def _safely(rule: Callable[..., bool], text: str, *lists: object) -> bool:
    """Any exception inside a rule means invalid (`docs/evaluation.md#validators`); so does anything that is
    not text."""
    if not isinstance(text, str):
        return False
    try:
        return bool(rule(text, *lists))
    except Exception:
        return False


class ListValidator:
    """A validator whose rule needs an external word list, loaded on first use (per data directory)."""

    def __init__(self, name: str, kind: str, parse: Callable, rule: Callable[..., bool]) -> None:
        self.name, self.kind, self.parse, self.rule = name, kind, parse, rule
        self._loaded: dict[str, object] = {}

    def load(self, data_dir: str | os.PathLike | None = None) -> object:
        """The parsed list; raises `ValidatorDataUnavailable` when it cannot be found or downloaded."""
        root = resolve_data_dir(data_dir)
        key = str(root)
        if key not in self._loaded:
            self._loaded[key] = self.parse(tuple(list_files(self.kind, self.name, root)))
        return self._loaded[key]

    def clear(self) -> None:
        """Forget the loaded lists, e.g. after files were placed in the data directory or the cache."""
        self._loaded.clear()

    def __call__(self, text: str) -> bool:
        return _safely(self.rule, text, self.load())

    def __repr__(self) -> str:
        return f"ListValidator({self.name!r}, list={self.kind!r})"


_LIST_VALIDATORS = (
    ListValidator("car_make_model", WORD_LIST["car_make_model"], word_lists.cars, car_make_model),
    ListValidator("car_brand", WORD_LIST["car_brand"], word_lists.cars, car_brand),
    ListValidator("claude_gerunds", WORD_LIST["claude_gerunds"], word_lists.gerunds, stripped_lower_in),
    ListValidator("color_normal_ex", WORD_LIST["color_normal_ex"], word_lists.colors, stripped_lower_in),
    ListValidator(
        "color_interesting_ex", WORD_LIST["color_interesting_ex"], word_lists.colors, stripped_lower_in
    ),
    ListValidator("element_symbols", WORD_LIST["element_symbols"], word_lists.elements, element_symbol),
    ListValidator("element_names", WORD_LIST["element_names"], word_lists.elements, element_name),
)

_TEXT_RULES: dict[str, Callable[[str], bool]] = {
    "basic_emails": basic_email,
    "professional_emails": professional_email,
    "us_phone_numbers": us_phone_number,
    "international_phone_numbers": international_phone_number,
    "prime_numbers": prime_number,
    "small_prime_numbers": small_prime_number,
    "random_seed": random_seed,
    "rng_1_100": rng_1_100,
    **{name: partial(_member, valid) for name, valid in VALID_SETS.items()},
}

VALIDATORS: dict[str, Callable[[str], bool]] = {
    **{name: partial(_safely, rule) for name, rule in _TEXT_RULES.items()},
    **{entry.name: entry for entry in _LIST_VALIDATORS},
}
"""All 22 validators by task name; the word-list ones read their list on first call."""


def validator(name: str, data_dir: str | os.PathLike | None = None) -> Callable[[str], bool]:
    """The validator of task ``name``, with its word list (if any) loaded now from ``data_dir``."""
    if name not in VALIDATORS:
        raise ValueError(f"unknown validator {name!r}; expected one of {sorted(VALIDATORS)}")
    entry = VALIDATORS[name]
    if isinstance(entry, ListValidator):
        return _bind(entry.rule, entry.load(data_dir))
    return entry


def _bind(rule: Callable[..., bool], words: object) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        return _safely(rule, text, words)

    return check


def valid_set(name: str) -> frozenset[str] | None:
    """The finite valid set of an Inclusion task, None for a rule task; unknown names fail."""
    if name not in VALIDATORS:
        raise ValueError(f"unknown validator {name!r}; expected one of {sorted(VALIDATORS)}")
    return VALID_SETS.get(name)


__all__ = [
    "DEFAULT_STOP_STRINGS",
    "INCLUSION_TASKS",
    "VALIDATORS",
    "VALID_SETS",
    "clean_generation",
    "valid_set",
    "validator",
]
