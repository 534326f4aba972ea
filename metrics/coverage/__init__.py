"""Valid output-space coverage: validity, diversity and yield of sampled generations (`docs/evaluation.md#coverage`)."""
