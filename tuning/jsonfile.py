"""JSON files of runs and evaluations: strict JSON (no NaN), written atomically, read with clear errors.

One conversion for every record this package writes (results, run arguments, the train mix): numpy scalars
become Python numbers, tuples lists, paths strings, and a non-finite float None, since JSON has no NaN.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any


class JSONFileError(ValueError):
    """A JSON file is missing, unreadable or not what it should be; the message names the file."""


def json_ready(value: Any) -> Any:
    """``value`` as plain JSON data (dataclasses as dicts, numpy scalars as numbers, NaN/inf as None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: Path, payload: Any) -> Path:
    """Write JSON to a temporary file beside ``path`` and rename it in place (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(json_ready(payload), fh, indent=2, allow_nan=False)
            fh.write("\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_json(path: Path, what: str) -> Any:
    """The JSON in ``path``; a missing, unreadable or malformed file is a `JSONFileError` naming it."""
    if path.is_dir():
        hint = (
            f"; pass the file inside it, {path / 'results.json'}" if (path / "results.json").is_file() else ""
        )
        raise JSONFileError(f"{path} is a folder, not a file (expected {what}){hint}")
    if not path.is_file():
        raise JSONFileError(f"{path} does not exist (expected {what})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise JSONFileError(f"{path} is not readable JSON ({err}); expected {what}") from err
