"""The entry point of ``python -m tuning.run``: parse, train, print the before/after table.

Bad input ends in one line on standard error and exit code 2, before any model is loaded where it can be.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence

from tuning.jsonfile import json_ready
from tuning.run.arguments import RunInputError, parse


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from tuning.run.trainer import train

    try:
        outcome = train(parse(argv))
    except RunInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if outcome.get("table"):
        print("\nBefore/after on the held-out tasks (spectrum format):\n")
        print(outcome["table"])
    print(json.dumps(json_ready({k: v for k, v in outcome.items() if k != "table"}), indent=2))
    return 0
