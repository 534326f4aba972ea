"""Running a model on the suite, behind one contract (`LanguageModel`) with two backends chosen once per run.

- `LM` (`transformers_lm`): transformers in this process (the default; accelerate for several processes,
  ``device_map`` for a model larger than one GPU);
- `ServedLM` (`served`): a model served over the OpenAI-compatible completions API (vLLM, ...), sent our own
  token ids, so that the engine does tensor and pipeline parallelism while tokenisation stays ours
  (`docs/served.md`).
"""

from tuning.lm.contract import INCORRECT_THRESHOLD, LanguageModel, OutputRecord, derived_seed
from tuning.lm.served import ServedLM, ServerError
from tuning.lm.transformers_lm import LM, in_batches, is_out_of_memory

__all__ = [
    "INCORRECT_THRESHOLD",
    "LM",
    "LanguageModel",
    "OutputRecord",
    "ServedLM",
    "ServerError",
    "derived_seed",
    "in_batches",
    "is_out_of_memory",
]
