"""python -m spectrum_suite list | show | build | export | push | harness."""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections import Counter

from . import fetch
from .formats import FORMATS, PROMPT_FAMILIES
from .registry import SOURCES, UnknownNameError, config_row_family, list_tasks
from .task import KINDS, ROW_FAMILIES, SIDES
from .verbosity import add_verbosity_options, set_verbosity


def _cmd_list(args: argparse.Namespace) -> int:
    wanted = "ready" if args.available else args.availability
    tasks = list_tasks(args.row_family, args.side, args.source, args.kind, wanted, data_dir=args.data_dir)
    rows = [
        (t.name, t.row_family, t.side, t.source.key, t.kind, fetch.availability(t, args.data_dir))
        for t in tasks
    ]
    if args.json:
        keys = ("name", "row_family", "side", "source", "kind", "availability")
        print(json.dumps([dict(zip(keys, row, strict=True)) for row in rows], indent=2))
        return 0
    header = ("task", "rows", "side", "source", "kind", "availability")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    counts = Counter(row[5] for row in rows)
    print(f"\n{len(rows)} tasks: " + ", ".join(f"{counts[a]} {a}" for a in fetch.AVAILABILITY if counts[a]))
    return 0


def _config_kwargs(args: argparse.Namespace) -> dict:
    kwargs = {"data_dir": args.data_dir, "skip_unavailable": args.skip_unavailable}
    if args.description_prob is not None:
        kwargs["description_prob"] = args.description_prob
    if args.max_instances is not None:
        kwargs["max_instances"] = args.max_instances
    if args.validation_fraction is not None:
        kwargs["validation_fraction"] = args.validation_fraction
    if not args.verify_checksums:
        kwargs["verify_checksums"] = False
    return kwargs


def _cmd_build(args: argparse.Namespace) -> int:
    from .builder import build_record, load_dataset

    for config in args.configs:
        start = time.perf_counter()
        dataset = load_dataset(config, **_config_kwargs(args))
        seconds = time.perf_counter() - start
        print(f"{config} ({config_row_family(config)}), built in {seconds:.1f} s")
        for split, table in dataset.items():
            tasks = Counter(table["task"])
            print(
                f"  {split}: {table.num_rows} rows from {len(tasks)} tasks, {table.data.nbytes / 1e6:.1f} MB"
            )
            for task, count in sorted(tasks.items()):
                print(f"    {task}: {count}")
        skipped = build_record(dataset)["skipped"]
        if skipped:
            print(f"  skipped: {', '.join(skipped)}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from .builder import load_dataset
    from .formats import Format, show
    from .registry import get_task

    task = get_task(args.task)
    fmt = None
    if task.row_family == "episodes":
        tokenizer = None
        if args.tokenizer:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
        fmt = Format(args.format, tokenizer, None if tokenizer is not None else args.family)
    split = "train" if task.side == "train" else "test"
    table = load_dataset(task.name, split=split, data_dir=args.data_dir)
    for row in table.select(range(min(args.n, table.num_rows))):
        print(f"=== {row.get('episode_id') or row.get('instance_id') or row['task']}")
        if fmt is None:
            print(json.dumps(row, indent=2, ensure_ascii=False))
            continue
        print(show(fmt.render(row["messages"])))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .hub import DEFAULT_CONFIGS, export

    out = export(args.out, args.configs or list(DEFAULT_CONFIGS), **_config_kwargs(args))
    print(f"exported to {out}; load it with datasets.load_dataset({str(out)!r}, CONFIG)")
    return 0


def _cmd_push(args: argparse.Namespace) -> int:
    from .hub import DEFAULT_CONFIGS, push

    url = push(args.repo_id, args.configs or list(DEFAULT_CONFIGS), private=args.private, token=args.token,
               **_config_kwargs(args))  # fmt: skip
    print(f"pushed to {url}")
    return 0


def _build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", help="folder with manual/downloaded source files (default: $SPECTRUM_SUITE_DATA)"
    )
    parser.add_argument(
        "--skip-unavailable", action="store_true", help="build the tasks that are available, list the rest"
    )
    parser.add_argument(
        "--description-prob", type=float, help="probability an episode includes its description"
    )
    parser.add_argument(
        "--max-instances", type=int, help="cap the instances (persons, distributions) per task (at least 1)"
    )
    parser.add_argument(
        "--validation-fraction",
        type=float,
        help="share of a training task's instances held out (0 <= f < 1; default 0.05)",
    )
    parser.add_argument(
        "--verify-checksums", action=argparse.BooleanOptionalAction, default=True,
        help="check source files against their pinned SHA-256 (off: use your own versions; the card records it)",
    )  # fmt: skip


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m spectrum_suite", description=__doc__)
    add_verbosity_options(top)
    commands = top.add_subparsers(dest="command", required=True)

    p = commands.add_parser(
        "list", help="list every task with its row family, split side, source, kind, availability"
    )
    p.add_argument("--row-family", choices=ROW_FAMILIES)
    p.add_argument("--side", choices=SIDES)
    p.add_argument("--source", choices=sorted(SOURCES))
    p.add_argument("--kind", choices=KINDS)
    p.add_argument(
        "--availability", choices=fetch.AVAILABILITY,
        help="ready: its files are in the data directory (or it is generated in code), it builds offline here; "
        "downloadable; gated: downloadable once you accept the dataset's terms on the Hub and log in (hf auth "
        "login); manual: a file must be fetched by hand (docs/tasks.md#manual-files); permission: a file is given "
        "by its authors on request",
    )  # fmt: skip
    p.add_argument("--available", action="store_true", help="only the tasks ready to build here")
    p.add_argument("--data-dir", help="folder with source files (default: $SPECTRUM_SUITE_DATA)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_list)

    p = commands.add_parser("build", help="build configs into the datasets cache and summarise them")
    p.add_argument("configs", nargs="+", metavar="CONFIG")
    _build_options(p)
    p.set_defaults(func=_cmd_build)

    p = commands.add_parser(
        "show", help="print rendered episodes of a task with the scored spans marked ____"
    )
    p.add_argument("task")
    p.add_argument("--format", default="spectrum", choices=FORMATS)
    p.add_argument(
        "--family",
        default="chatml",
        choices=PROMPT_FAMILIES,
        help="prompt (turn-token) family without --tokenizer",
    )
    p.add_argument(
        "--tokenizer", help="a tokenizer (Hub id or path) to render with; required for --format chat"
    )
    p.add_argument("-n", type=int, default=2, help="how many episodes")
    p.add_argument("--data-dir")
    p.set_defaults(func=_cmd_show)

    p = commands.add_parser("export", help="write the Hub layout (Parquet + dataset card) to a folder")
    p.add_argument("configs", nargs="*", metavar="CONFIG", help="default: synthetic alignment coverage")
    p.add_argument("--out", default="spectrum_suite", help="target folder (default: ./spectrum_suite)")
    _build_options(p)
    p.set_defaults(func=_cmd_export, skip_unavailable=True)

    p = commands.add_parser("push", help="export and upload to a Hub dataset repository")
    p.add_argument("configs", nargs="*", metavar="CONFIG", help="default: synthetic alignment coverage")
    p.add_argument("--repo-id", required=True, help="ORG/NAME")
    p.add_argument("--private", action="store_true")
    p.add_argument("--token", help="Hub token (default: the logged-in one)")
    _build_options(p)
    p.set_defaults(func=_cmd_push, skip_unavailable=True)

    commands.add_parser(
        "harness",
        add_help=False,
        help="write configs as lm-evaluation-harness tasks (harness --help: its options)",
    )
    return top


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["harness"]:  # its own parser: tuning.eval's protocol options (spectrum_suite.harness.cli)
        from .harness.cli import main as harness_main

        command = functools.partial(harness_main, argv[1:])
    else:
        args = parser().parse_args(argv)
        set_verbosity(
            args.verbose, args.quiet
        )  # by default the build log (drops per reason, missing files) shows
        command = functools.partial(args.func, args)
    try:
        return command()
    except UnknownNameError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (ValueError, RuntimeError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
