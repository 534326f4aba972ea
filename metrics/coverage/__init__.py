"""Valid output-space coverage: validity, diversity and yield of sampled generations (spec C.2, C.5-C.8)."""
