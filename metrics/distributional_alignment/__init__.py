"""Distributional alignment: divergences between target and model distributions (`docs/evaluation.md#distributional-alignment`)."""
