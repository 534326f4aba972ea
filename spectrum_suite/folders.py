"""Folders our commands write: marked as ours, written aside and swapped in whole, never written into otherwise.

Every folder a command writes as a whole (``tuning.eval --out``, ``compare --out``, ``tuning.weight_transfer
--out``, and a ``tuning.run`` run folder, which grows in place) carries a `Mark`: a small JSON file naming the
tool and listing every file the tool wrote, with its size and modification time. The rules follow from it:

- a folder without our mark that holds anything is never written into (a missing or empty folder is fine);
- a marked folder is replaced only as a whole, and only when each of its files is one we wrote and nobody
  changed since: a file someone added or edited is named, and the command refuses before any long work;
- a new version is written into a staging folder beside the target (``.NAME.partial-<time>-<pid>``) and
  swapped in by two renames (the old version to ``.NAME.replaced-<time>-<pid>``, removed once the new one is
  in place), so an interrupted command leaves the previous version whole and never a mix of the two;
- leftovers of interrupted commands are recognised by their mark: a staging folder whose process is gone is
  removed, and a replaced version whose target is missing (a swap cut between its renames) is put back.

This module imports nothing of the package; `spectrum_suite.hub`, `tuning.eval`, `tuning.run` and
`tuning.weight_transfer` all use it.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import json
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
logger = logging.getLogger("spectrum_suite")

STAGING = "partial"
REPLACED = "replaced"
#: The longest suffix of a sibling name we create: ``.NAME.replaced-YYYYmmdd-HHMMSS-<pid>-<n>``.
_SUFFIX_LENGTH = len(".." + REPLACED + "-20250101-000000-4194304-99")
#: Tells this process's staging folders from those of an earlier process that had the same pid.
_STAGING_ID = f"{os.getpid()}-{time.time_ns()}"
#: What a staging folder's mark says about the process writing it (dropped once it is swapped in).
_STAGING_FIELDS = ("pid", "host", "time", "staging_id", "complete")


class FolderError(ValueError):
    """A folder cannot be written as asked: it is someone else's, holds files we did not write, or is not
    writable; the message names the folder, the option and what to do."""


def describe(names: Sequence[str], limit: int = 5) -> str:
    """``a, b, c (and 4 more)``."""
    shown = ", ".join(names[:limit])
    return shown + (f" (and {len(names) - limit} more)" if len(names) > limit else "")


def check_writable(path: str | os.PathLike, option: str) -> Path:
    """``path`` as a folder this process can create or write, checked by really creating (and removing) an empty
    folder in it or in its nearest existing parent: permissions, read-only file systems, a file in the way."""
    folder = Path(path).expanduser()
    if folder.is_symlink() and not folder.exists():
        raise FolderError(f"{option} {folder} is a link to {os.readlink(folder)}, which does not exist")
    if folder.exists() and not folder.is_dir():
        raise FolderError(f"{option} {folder} is a file; expected a folder (it is created if missing)")
    check_name(folder, option)
    parent = folder if folder.is_dir() else next((p for p in folder.parents if p.exists()), Path("."))
    if not parent.is_dir():
        raise FolderError(f"{option} {folder}: {parent} is a file, not a folder")
    try:
        Path(tempfile.mkdtemp(prefix=".spectrum_suite-write-check-", dir=parent)).rmdir()
    except OSError as err:
        raise FolderError(f"{option} {folder}: cannot write in {parent} ({err.strerror or err})") from None
    return folder


def check_name(folder: Path, option: str) -> None:
    """A folder name short enough for the file system, with room for the siblings we create beside it."""
    parent = next((p for p in folder.parents if p.is_dir()), Path("."))
    try:
        limit = os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    if len(os.fsencode(folder.name)) + _SUFFIX_LENGTH > limit:
        raise FolderError(
            f"{option} {folder.name[:40]}...: the name is {len(os.fsencode(folder.name))} bytes long; at most "
            f"{limit - _SUFFIX_LENGTH} fit (the file system allows {limit}, and a backup beside it adds "
            f"{_SUFFIX_LENGTH})"
        )


def snapshot(folder: Path, under: Iterable[str] = ("",)) -> dict[str, list[int]]:
    """Each file below ``folder`` (or below the given relative paths): relative path -> [size, mtime_ns].
    Links are listed, never followed."""
    found: dict[str, list[int]] = {}
    for start in under:
        top = folder / start if start else folder
        if top.is_symlink() or top.is_file():
            found[top.relative_to(folder).as_posix()] = _stat(top)
            continue
        for root, dirs, files in os.walk(top):
            base = Path(root)
            for name in files + [d for d in dirs if (base / d).is_symlink()]:
                path = base / name
                found[path.relative_to(folder).as_posix()] = _stat(path)
    return found


def _stat(path: Path) -> list[int]:
    info = path.lstat()
    return [info.st_size, info.st_mtime_ns]


def writer() -> dict[str, Any]:
    """What a staging folder's mark records about the process writing it (see `abandoned`)."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "time": time.time(), "staging_id": _STAGING_ID}


def abandoned(record: dict[str, Any]) -> bool:
    """Whether the process that wrote a staging folder has ended (on another machine: after a day)."""
    pid, host = record.get("pid"), record.get("host")
    if not isinstance(pid, int):
        return True
    if host != socket.gethostname():
        return time.time() - float(record.get("time", 0)) > 86400
    if pid == os.getpid():
        return record.get("staging_id") != _STAGING_ID
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Mark:
    """The mark of one tool's folders: a JSON file ``filename`` holding ``{"tool": tool, "files": {...}}``."""

    def __init__(self, filename: str, tool: str) -> None:
        self.filename, self.tool = filename, tool

    def read(self, folder: Path) -> dict[str, Any] | None:
        """The folder's mark if it is this tool's, else None."""
        path = folder / self.filename
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        return record if isinstance(record, dict) and record.get("tool") == self.tool else None

    def owns(self, folder: Path) -> bool:
        return self.read(folder) is not None

    def write(self, folder: Path, record: dict[str, Any]) -> None:
        """Write the mark (through a temporary file and a rename: never half written)."""
        path = folder / self.filename
        tmp = path.with_name(f".{self.filename}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def create(self, folder: Path, **fields: Any) -> dict[str, Any]:
        """Mark ``folder`` (created if missing) as this tool's, with an empty inventory."""
        folder.mkdir(parents=True, exist_ok=True)
        record = {"tool": self.tool, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files": {}, **fields}
        self.write(folder, record)
        return record

    def update(self, folder: Path, **fields: Any) -> dict[str, Any]:
        """Set fields of the mark (the inventory is kept)."""
        record = self.read(folder) or {"tool": self.tool, "files": {}}
        record.update(fields)
        self.write(folder, record)
        return record

    def add(self, folder: Path, files: dict[str, list[int]]) -> None:
        """Record ``files`` (from `snapshot`) as written by this tool; files gone since are forgotten."""
        record = self.read(folder) or {"tool": self.tool, "files": {}}
        inventory = {k: v for k, v in record.get("files", {}).items() if (folder / k).exists()}
        inventory.update({k: v for k, v in files.items() if k != self.filename})
        record["files"] = inventory
        self.write(folder, record)

    @contextlib.contextmanager
    def recording(self, folder: Path, under: Iterable[str] = ("",)) -> Iterator[None]:
        """Record every file that the block creates or changes below ``under`` as this tool's."""
        under = list(under)
        before = snapshot(folder, [u for u in under if (folder / u).exists() or not u])
        try:
            yield
        finally:
            after = snapshot(folder, [u for u in under if (folder / u).exists() or not u])
            self.add(folder, {k: v for k, v in after.items() if before.get(k) != v})

    def foreign(self, folder: Path, ours: Sequence[str] = ()) -> list[str]:
        """Files in ``folder`` this tool did not write or that changed since (relative paths, sorted); files
        matching a pattern of ``ours`` and leftovers of our own interrupted writes count as ours."""
        record = self.read(folder)
        inventory = record.get("files", {}) if record else {}
        patterns = [*ours, f".*.{STAGING}-*", f".*.{REPLACED}-*", f"*/.*.{STAGING}-*", f"*/.*.{REPLACED}-*"]
        found = []
        for name, stat in snapshot(folder).items():
            if name == self.filename or name.startswith(f".{self.filename}.tmp-"):
                continue
            parts = name.split("/")
            prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
            if any(fnmatch.fnmatchcase(p, pattern) for p in prefixes for pattern in patterns):
                continue
            if inventory.get(name) != stat:
                found.append(name)
        return sorted(found)


def sibling(target: Path, kind: str) -> Path:
    """A new name ``.NAME.<kind>-<time>-<pid>`` beside ``target``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(100):
        candidate = target.with_name(f".{target.name}.{kind}-{stamp}-{os.getpid()}" + (f"-{n}" if n else ""))
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
    raise FolderError(f"too many {kind} folders beside {target}")


def siblings(target: Path, kind: str) -> list[Path]:
    """The ``.NAME.<kind>-*`` folders beside ``target``, oldest first."""
    if not target.parent.is_dir():
        return []
    return sorted(target.parent.glob(f".{_glob_escape(target.name)}.{kind}-*"))


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def resolve(target: Path, option: str) -> Path:
    """``target`` with a link to a folder followed; a link to nothing is refused."""
    target = Path(target).expanduser()
    if target.is_symlink():
        if not target.exists():
            raise FolderError(f"{option} {target} is a link to {os.readlink(target)}, which does not exist")
        return target.resolve()
    return target


def clean_leftovers(target: Path, mark: Mark) -> list[str]:
    """Tidy what interrupted writes of ``target`` left beside it: a staging folder of ours whose process has
    ended is removed; a replaced version of ours is put back when the target is missing (the swap was cut
    between its renames), else removed when nobody added to it. Returns what was done, in words."""
    done = []
    for staging in siblings(target, STAGING):
        record = mark.read(staging)
        if record is None or not abandoned(record):
            continue
        if record.get("complete"):  # finished, but could not be swapped in: the only copy of that work
            done.append(
                f"kept {staging.name}: a complete version that was not swapped in (yours to keep or remove)"
            )
            continue
        shutil.rmtree(staging)  # only its own process ever writes into a staging folder
        done.append(f"removed {staging.name} (an interrupted write)")
    for aside in reversed(siblings(target, REPLACED)):
        if not mark.owns(aside):
            continue
        if not target.exists() and not target.is_symlink():
            aside.rename(target)
            done.append(f"put back {target.name} from {aside.name} (an interrupted replacement)")
        elif not mark.foreign(aside):
            shutil.rmtree(aside)
            done.append(f"removed {aside.name} (the previous version, already replaced)")
        else:
            done.append(f"kept {aside.name}: a previous version holding files we did not write")
    for line in done:
        logger.warning("%s: %s", target, line)
    return done


def check_target(target: Path, mark: Mark, option: str) -> Path:
    """Refuse, before any long work, a target that this tool may not replace as a whole: a file, a folder
    holding things without our mark, or our folder holding files we did not write. Returns the target with a
    link followed, after tidying the leftovers of interrupted writes."""
    try:
        check_name(Path(target).expanduser(), option)
        target = resolve(target, option)
        if target.exists() and not target.is_dir():
            raise FolderError(f"{option} {target} is a file; expected a folder (it is created if missing)")
        if (
            not target.exists()
        ):  # a file in the way is named with the target (nothing is made in a user's folder)
            check_writable(target, option)
        check_writable(target.parent, option)  # the new version is written beside the target
        clean_leftovers(target, mark)
        _check_replaceable(target, mark, option)
    except OSError as err:  # a path the system refuses to look at (a part too long, a loop of links)
        raise FolderError(f"{option} {str(target)[:80]}: {err.strerror or err}") from None
    return target


def _check_replaceable(target: Path, mark: Mark, option: str) -> None:
    if not target.exists():
        return
    if not target.is_dir():
        raise FolderError(f"{option} {target} is a file; expected a folder (it is created if missing)")
    if not any(target.iterdir()):
        return
    if not mark.owns(target):
        other = ", ".join(sorted(p.name for p in target.iterdir())[:5])
        raise FolderError(
            f"{option} {target} holds files that {mark.tool} did not write ({other}; no {mark.filename}): it never "
            "writes into such a folder. Choose a new or empty folder"
        )
    foreign = mark.foreign(target)
    if foreign:
        raise FolderError(
            f"{option} {target} holds files that {mark.tool} did not write, or that changed since it wrote them: "
            f"{describe(foreign)}. It replaces its folder only as a whole and never removes your files: move them "
            "out, or choose another folder"
        )


def write_whole(target: Path, mark: Mark, write: Callable[[Path], T], option: str, **fields: Any) -> T:
    """Write a new version of ``target`` with ``write(staging_folder)`` and swap it in whole (see the module
    docstring); ``fields`` go into the mark. An exception leaves the previous version untouched."""
    target = check_target(target, mark, option)
    staging = sibling(target, STAGING)
    mark.create(staging, **writer(), **fields)
    try:
        result = write(staging)
        mark.add(staging, snapshot(staging))
        mark.update(staging, complete=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        _check_replaceable(target, mark, option)  # again: files may have been added during the work
    except FolderError as err:
        raise FolderError(f"{err}. The new version is kept in {staging}") from None
    swap(staging, target)
    record = mark.read(target) or {}
    mark.write(target, {k: v for k, v in record.items() if k not in _STAGING_FIELDS})
    return result


def swap(staging: Path, target: Path) -> None:
    """Put ``staging`` in the place of ``target`` by renames; the previous version is removed afterwards."""
    aside = None
    if target.exists():
        if any(target.iterdir()):
            aside = sibling(target, REPLACED)
            target.rename(aside)
        else:
            target.rmdir()
    try:
        staging.rename(target)
    except OSError as err:
        if aside is not None and not target.exists():
            aside.rename(target)
        if err.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise FolderError(f"{target} appeared while the new version was being written") from err
        raise
    if aside is not None:
        shutil.rmtree(aside)
