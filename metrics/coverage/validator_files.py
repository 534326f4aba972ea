"""Where the validators' word lists come from: the data directory, a package that ships one, else a download.

Four validators need an external list (car makes and models, colour names, English verb forms, chemical
elements): exact files of four public repositories, each pinned by commit and SHA-256, declared with the
coverage tasks that need them (`spectrum_suite.sources.coverage_tasks.LISTS`). They go through the
package's one file stack (`spectrum_suite.fetch`): the data directory (``data_dir=`` or
``$SPECTRUM_SUITE_DATA``, laid out as ``<folder>/<path in the repository>``), where a copy whose SHA-256 is not
the pinned one is refused with `ChecksumMismatch` naming it (a truncated list would silently lower % valid);
then, for the verb list, the ``word-forms`` wheel when it is installed (it ships the very ``en-verbs.txt``; it
is not a dependency: it is unmaintained and pins old packages; it is located, never imported, and used only
when its checksum matches); then the package cache, downloading once from raw.githubusercontent.com at the
pinned commit. Offline (``SPECTRUM_SUITE_OFFLINE``/``HF_HUB_OFFLINE``/``HF_DATASETS_OFFLINE``) a missing file
raises `ValidatorDataUnavailable`, naming the task, the file and where to put it. Nothing is read at import
time.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from spectrum_suite.fetch import fetch_file, local_path, resolve_data_dir, sha256_of, verified
from spectrum_suite.sources.coverage_tasks import LISTS
from spectrum_suite.task import RemoteFile, SourceUnavailable

#: A list that is neither here nor downloadable (a `SourceUnavailable`, naming the task and the file).
ValidatorDataUnavailable = SourceUnavailable


#: Files an installed PyPI package ships under its base name: path -> import name of the package.
PACKAGED = {LISTS["verbs"][0].path: "word_forms"}


def list_files(kind: str, task: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Local paths of the files of list ``kind`` (cars, colors, verbs, elements), downloading if needed; a copy
    in the data directory is checked against its pin like a source file (`ChecksumMismatch` names it)."""
    root = resolve_data_dir(data_dir)
    return [_located(task, file, root) for file in LISTS[kind]]


def _located(task: str, file: RemoteFile, root: Path | None) -> Path:
    here = local_path(file, root)
    return verified(here, file) if here is not None else _packaged(file) or fetch_file(task, file)


def _packaged(file: RemoteFile) -> Path | None:
    """The copy an installed package ships, if it is there and matches the pinned checksum."""
    package = PACKAGED.get(file.path)
    spec = importlib.util.find_spec(package) if package else None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / Path(file.path).name
        if candidate.is_file() and sha256_of(candidate) == file.sha256:
            return candidate
    return None
