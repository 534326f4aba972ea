"""``-v``/``-q`` for every command line: how much this package and the libraries under it say.

One place sets our loggers (``spectrum_suite``, ``tuning``, ``metrics``) and the ``datasets``, ``transformers``
and ``evaluate`` verbosity from the same choice, so a quiet run is quiet all the way down and a verbose one
shows the libraries' own information too. Progress bars stay on unless ``-q``.
"""

from __future__ import annotations

import argparse
import importlib
import logging

OUR_LOGGERS = ("spectrum_suite", "tuning", "metrics")
LIBRARIES = ("datasets", "transformers", "evaluate")
#: ``-q`` count minus ``-v`` count -> (our level, the libraries' level)
LEVELS = {-2: (logging.DEBUG, logging.DEBUG), -1: (logging.DEBUG, logging.INFO), 0: (logging.INFO, logging.WARNING),
          1: (logging.WARNING, logging.ERROR), 2: (logging.ERROR, logging.ERROR)}  # fmt: skip


def add_verbosity_options(parser: argparse.ArgumentParser) -> None:
    """``-v``/``--verbose`` and ``-q``/``--quiet``, each repeatable."""
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="say more (-vv: debug); passed to the libraries"
    )
    parser.add_argument(
        "-q", "--quiet", action="count", default=0, help="say less (-qq: errors only, no progress bars)"
    )


def set_verbosity(verbose: int = 0, quiet: int = 0) -> None:
    """Apply a ``-v``/``-q`` choice to our loggers and to the libraries' own verbosity settings."""
    ours, theirs = LEVELS[max(-2, min(2, quiet - verbose))]
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(ours)
    for name in LIBRARIES:
        try:
            library = importlib.import_module(f"{name}.utils.logging")
        except ImportError:  # transformers is an extra: the data-only install has no tuning stack
            continue
        library.set_verbosity(theirs)
        if quiet > verbose:
            library.disable_progress_bar()
