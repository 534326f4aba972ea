"""Spectrum Tuning and model-side evaluation: loading, scoring, evaluating and tuning causal LMs.

Importing this package (every entry point of ``tuning.run`` and ``tuning.eval`` does, before torch) asks
OpenMP to wait passively: idle worker threads sleep instead of spinning, so on a machine shared with other
busy processes they give their cores back rather than fight for them (see ``bench/threads.py``). A value the
user set in ``OMP_WAIT_POLICY`` is kept.
"""

import os

from tuning.distributed import OMP_WAIT_POLICY

os.environ.setdefault("OMP_WAIT_POLICY", OMP_WAIT_POLICY)
