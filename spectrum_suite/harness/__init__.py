"""Spectrum Suite as lm-evaluation-harness tasks: ``spectrum-suite harness CONFIG... --tokenizer MODEL --out DIR``.

The export writes a task folder for ``lm_eval --include_path DIR``: one YAML task ``spectrum_<task>`` per task,
the groups ``spectrum_steerability``, ``spectrum_alignment`` and ``spectrum_coverage``, the items as JSON lines
and a ``utils.py`` whose functions (`metrics.harness`) compute our figures with our metric modules. In the order
data flows: `requests` (how the harness tokenises a request, and whether that is ours), `items` (the docs of one
task, chosen by `tuning.eval`'s code), `files` (the folder) and `export` (all of it). `docs/harness.md` says how
to run it and where the harness's numbers can differ from ours.
"""

from .export import LM_EVAL_FLOOR, Export, export
from .files import HarnessFolderError

__all__ = ["LM_EVAL_FLOOR", "Export", "HarnessFolderError", "export"]
