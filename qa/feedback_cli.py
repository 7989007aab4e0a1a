"""``python -m qa feedback export|list``: get staff flags out of the feedback database.

``qa/__main__.py`` registers this with ``feedback_cli.add_parser(sub)``; :func:`main` runs it
standalone (``python -m qa.feedback_cli feedback export --out flags.csv``).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from qa.feedback import FeedbackStore, FeedbackStoreError, Flag, default_feedback_path

LIST_LIMIT = 20
T = TypeVar("T")


def _db_path(args: argparse.Namespace) -> Path:
    return args.db if args.db is not None else default_feedback_path()


def _open_existing(path: Path) -> FeedbackStore | None:
    """The store at ``path``, or ``None`` (with a message) if there is no database there."""
    if not path.is_file():
        print(f"error: no feedback database at {path} (nothing flagged yet, or wrong --db?)",
              file=sys.stderr)
        return None
    return FeedbackStore(path)


def _with_store(path: Path, action: Callable[[FeedbackStore], T]) -> tuple[int, T | None]:
    """Run ``action`` on the existing store: (0, result), or (1 no database | 2 error, None)."""
    try:
        store = _open_existing(path)
        if store is None:
            return 1, None
        with store:
            return 0, action(store)
    except (FeedbackStoreError, sqlite3.Error, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2, None


def cmd_export(args: argparse.Namespace) -> int:
    """Write every flag to ``--out`` as UTF-8 (with BOM) CSV."""
    path = _db_path(args)
    code, n = _with_store(path, lambda store: store.export_csv(args.out))
    if code:
        return code
    print(f"wrote {n} flag{'s' if n != 1 else ''} from {path} to {args.out}")
    return 0


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _cell(value: object, width: int) -> str:
    """``value`` on one line, cut and padded to ``width`` terminal columns."""
    s = " ".join(str(value).split())
    if _width(s) > width:
        out, used = [], 0
        for ch in s:
            w = _width(ch)
            if used + w > width - 1:
                break
            out.append(ch)
            used += w
        s = "".join(out) + "…"
    return s + " " * (width - _width(s))


_COLUMNS: tuple[tuple[str, int], ...] = (
    ("id", 6), ("created_at (UTC)", 19), ("verdict", 9), ("doc_id", 14), ("start-end", 13),
    ("question", 30), ("comment", 24),
)


def _row(f: Flag) -> tuple[object, ...]:
    return (f.id, f.created_at[:19].replace("T", " "), f.verdict, f.doc_id,
            f"{f.start}-{f.end}", f.question, f.comment)


def cmd_list(args: argparse.Namespace) -> int:
    """Print the newest flags as a short table."""
    path = _db_path(args)
    code, got = _with_store(path, lambda store: (
        store.count(), store.list(limit=args.limit, newest_first=True)))
    if code or got is None:
        return code
    total, flags = got
    print("  ".join(_cell(name, w) for name, w in _COLUMNS).rstrip())
    print("  ".join("-" * w for _, w in _COLUMNS))
    for f in flags:
        print("  ".join(_cell(v, w) for v, (_, w) in zip(_row(f), _COLUMNS, strict=True)).rstrip())
    print(f"{len(flags)} of {total} flag{'s' if total != 1 else ''} shown (newest first), "
          f"db: {path}")
    return 0


def _limit(value: str) -> int | None:
    n = int(value)
    if n < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return None if n == 0 else n


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``feedback`` command (``export``, ``list``) to ``subparsers``; returns it."""
    fb = subparsers.add_parser("feedback", help="export or list staff flags on citations",
                               description=__doc__.splitlines()[0])
    actions = fb.add_subparsers(dest="feedback_cmd", required=True, metavar="{export,list}")
    db_help = "feedback database (default: $GWR_QA_FEEDBACK_DB or " \
              "$XDG_DATA_HOME/gwr-qa/feedback.sqlite3)"
    ex = actions.add_parser("export", help="write all flags to a CSV file (UTF-8 with BOM)")
    ex.add_argument("--out", type=Path, required=True, help="CSV file to write")
    ex.add_argument("--db", type=Path, help=db_help)
    ex.set_defaults(func=cmd_export)
    ls = actions.add_parser("list", help="print the newest flags as a table")
    ls.add_argument("--db", type=Path, help=db_help)
    ls.add_argument("--limit", type=_limit, default=LIST_LIMIT,
                    help=f"how many flags to show, 0 for all (default {LIST_LIMIT})")
    ls.set_defaults(func=cmd_list)
    return fb


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point: ``main(["feedback", "export", "--out", "flags.csv"])``."""
    p = argparse.ArgumentParser(prog="python -m qa")
    sub = p.add_subparsers(dest="cmd", required=True)
    add_parser(sub)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
