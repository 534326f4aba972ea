"""Spectrum Tuning and model-side evaluation: loading, scoring, evaluating and tuning causal LMs."""
