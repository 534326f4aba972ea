"""Dataset card templates that `python -m spectrum_suite export` fills in (shipped as package data)."""
