"""Shared fixtures: the real source files of ../shared/data, and a per-test datasets cache."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests skip without it, except in CI (SPECTRUM_SUITE_REQUIRE_SHARED=1), where they fail."""
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    if os.environ.get("SPECTRUM_SUITE_REQUIRE_SHARED") == "1":
        pytest.fail(f"SPECTRUM_SUITE_REQUIRE_SHARED=1 but {SHARED_DATA} is missing")
    pytest.skip(f"{SHARED_DATA} is not here")


def pytest_configure(config):
    """Before `datasets` is imported: a private datasets cache, no Hub access, no user data directory."""
    os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="spectrum_suite_test_cache_")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ.pop("SPECTRUM_SUITE_DATA", None)
