"""Source adapters: one module per source, raw files in, instances (episodes) or rows (alignment, coverage) out.

`base.py` says what an adapter provides; `TaskSpec.module` in `spectrum_suite.registry` names each task's module.
"""
