"""Distributional alignment: divergences between target and model distributions (spec B.4-B.6)."""
