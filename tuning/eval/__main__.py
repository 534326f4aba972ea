"""``python -m tuning.eval``."""

from tuning.eval.cli import main

raise SystemExit(main())
