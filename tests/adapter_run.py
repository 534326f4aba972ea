"""Running one task's build the way the builder does, for the per-source tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spectrum_suite.episodes import Episode, InstanceGroup, as_groups, generate_episodes
from spectrum_suite.fetch import fetch_files
from spectrum_suite.registry import get_task
from spectrum_suite.task import FetchedFiles

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class Built:
    """What one task's build produced: the groups, their episodes, and the build log."""

    groups: list[InstanceGroup]
    episodes: list[Episode]
    fetched: FetchedFiles

    @property
    def instances(self):
        return [inst for group in self.groups for inst in group.instances]


def fetch(name: str, data_dir: Path | None, verify: bool | None = None) -> FetchedFiles:
    """The task's files from ``data_dir`` only (no download manager).

    Files are checked against their pinned SHA-256 except under the fixtures folder, whose files have the real
    schema but not the real content (or when ``verify`` says otherwise).
    """
    task = get_task(name)
    if verify is None:
        verify = data_dir is None or FIXTURES not in (data_dir, *data_dir.parents)
    return fetch_files(task.name, task.files, data_dir, None, verify)


def build(name: str, data_dir: Path | None, episodes: bool = True, verify: bool | None = None) -> Built:
    """fetch_files -> build -> groups -> episodes, with no download manager (data directory only)."""
    task = get_task(name)
    fetched = fetch(name, data_dir, verify)
    groups = as_groups(task.build(task, fetched), task.params)
    eps = [ep for g in groups for ep in generate_episodes(g.instances, g.params)] if episodes else []
    return Built(groups, eps, fetched)


def rows(name: str, data_dir: Path | None, verify: bool | None = None) -> list[dict]:
    """The rows of an alignment or coverage task built from ``data_dir``."""
    task = get_task(name)
    return list(task.build(task, fetch(name, data_dir, verify)))


def outputs(episode: Episode) -> list[str]:
    return [m["content"] for m in episode.messages() if m["role"] == "output"]


def inputs(episode: Episode) -> list[str]:
    return [m["content"] for m in episode.messages() if m["role"] == "input"]


def link_tree(files: dict[str, Path], root: Path) -> Path:
    """A data directory under ``root`` holding symlinks to real files (never copies) at the given paths."""
    for rel, target in files.items():
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to(target)
    return root
