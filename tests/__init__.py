"""The test suite: run with `python -m pytest -q` from the repository root."""
