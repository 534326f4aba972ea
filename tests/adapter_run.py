"""Running one source adapter the way the builder does, for the per-source tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spectrum_suite.episodes import Episode, InstanceGroup, as_groups, generate_episodes
from spectrum_suite.registry import get_task
from spectrum_suite.sources.base import FetchedFiles, fetch_files

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class Built:
    """What one adapter run produced: the groups, their episodes, and the build log."""

    groups: list[InstanceGroup]
    episodes: list[Episode]
    fetched: FetchedFiles

    @property
    def instances(self):
        return [inst for group in self.groups for inst in group.instances]


def build(name: str, data_dir: Path, episodes: bool = True) -> Built:
    """fetch_files -> instances -> groups -> episodes, with no download manager (data directory only)."""
    task = get_task(name)
    mod = task.adapter()
    fetched = fetch_files(task.name, mod.files(task), data_dir, None)
    groups = as_groups(mod.instances(task, fetched), task.params)
    eps = [ep for g in groups for ep in generate_episodes(g.instances, g.params)] if episodes else []
    return Built(groups, eps, fetched)


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
