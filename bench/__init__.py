"""Benchmarks, and the plain baselines they (and the tests) measure our code against."""
