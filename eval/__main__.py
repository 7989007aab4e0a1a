"""Command-line entry point: ``python -m eval <subcommand> ...``.

Each subcommand lives in its own ``add_*_parser`` function that registers a
subparser and sets ``handler`` (a callable ``args -> int`` exit code). Optional
subcommands (``run``, ``report``, ``bench``) are contributed by the modules
``eval.cli_run``, ``eval.cli_report`` and ``eval.cli_bench`` if they exist; each
must expose ``add_parser(subparsers)`` following the same ``handler`` convention.

Exit codes for ``score``: 0 all thresholds met, 1 a threshold failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_THRESHOLD = 1
EXIT_BAD_INPUT = 2

OPTIONAL_SUBCOMMAND_MODULES = (
    "eval.cli_run", "eval.cli_report", "eval.cli_bench", "eval.cli_calibrate", "eval.cli_sets"
)


def _parse_bound(text: str) -> tuple[str, float]:
    """Parse ``NAME=VALUE`` for --min/--max (argparse turns ValueError into exit 2)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number in {text!r}") from None


def add_score_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``score``: score a run file against a question file."""
    p = subparsers.add_parser(
        "score",
        help="score a run JSONL against gold questions",
        description="Score a run file against gold questions and print a report.",
    )
    p.add_argument("--questions", required=True, type=Path, help="question JSONL file")
    p.add_argument("--run", required=True, type=Path, help="run JSONL file")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the result as JSON")
    p.add_argument(
        "--min",
        action="append",
        default=[],
        type=_parse_bound,
        metavar="NAME=VALUE",
        help="fail (exit 1) if metric < VALUE; repeatable, e.g. hit@1=0.8",
    )
    p.add_argument(
        "--max",
        action="append",
        default=[],
        type=_parse_bound,
        metavar="NAME=VALUE",
        help="fail (exit 1) if metric > VALUE; e.g. wrongly_declined_rate=0.05",
    )
    p.add_argument(
        "--max-failures",
        type=int,
        default=50,
        metavar="N",
        help="number of failures listed in the printed report (default 50)",
    )
    p.set_defaults(handler=handle_score)
    return p


def handle_score(args: argparse.Namespace) -> int:
    """Run ``score``: load, score, print report, write JSON, check thresholds."""
    from eval import scoring

    mins = dict(args.min)
    maxs = dict(args.max)
    try:
        # validate metric names before doing any work
        scoring.check_thresholds({"overall": {}}, mins, maxs)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        items = scoring.load_questions(args.questions)
        if not items:
            raise ValueError(f"{args.questions}: no questions found")
        run = scoring.load_run(args.run)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT

    result = scoring.score(items, run)
    sys.stdout.write(scoring.format_report(result, max_failures=args.max_failures))
    if args.json is not None:
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(
                json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
        except OSError as exc:
            print(f"error: cannot write {args.json}: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT

    failed = scoring.check_thresholds(result, mins, maxs)
    if failed:
        print("\nTHRESHOLDS FAILED:", file=sys.stderr)
        for message in failed:
            print(f"  {message}", file=sys.stderr)
        return EXIT_THRESHOLD
    if mins or maxs:
        print(f"all {len(mins) + len(maxs)} threshold(s) met")
    return EXIT_OK


def _register_optional_subcommands(subparsers: Any) -> None:
    """Import optional subcommand modules if present and let them add their parsers."""
    for module_name in OPTIONAL_SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise  # the module exists but one of *its* imports is missing
            continue
        module.add_parser(subparsers)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with all available subcommands."""
    parser = argparse.ArgumentParser(
        prog="python -m eval", description="Evaluation suite for the retrieval QA assistant."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_score_parser(subparsers)
    _register_optional_subcommands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and dispatch to the chosen subcommand's handler."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
