"""``python -m qa ask|prepare|feedback``: answer, prepare the default index, export flags."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _engine(index_dir: Path | None):
    from index.build import ensure_builtin_index
    from qa.engine import QAEngine

    path = index_dir if index_dir else ensure_builtin_index()
    return QAEngine.from_path(path)


def _print_answer(ans) -> None:
    for n in ans.notices:
        print(f"注意: {n}")
    if ans.understood and ans.understood != ans.question:
        print(f"理解为: {ans.understood}")
    print(("答: " if ans.answered else "") + ans.message)
    for c in ans.citations:
        print(f"\n[{c.number}] {c.title} › {c.section}")
        print(f"    {c.location()}  score={c.score:.4f} bm25={c.bm25_rank} dense={c.dense_rank}")
        print(f"    {c.text}")


def cmd_ask(args: argparse.Namespace) -> int:
    from index.store import IndexLoadError

    try:
        engine = _engine(args.index)
    except IndexLoadError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    question = " ".join(args.question)
    ans = engine.ask(question, k=args.k, retriever=args.retriever, doc_id=args.doc,
                     year=args.year)
    if args.json:
        print(json.dumps(ans.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_answer(ans)
    return 0 if ans.answered or ans.message else 1


def cmd_prepare(args: argparse.Namespace) -> int:
    """Convert the bundled model and build the built-in index if missing or stale."""
    from index.build import ensure_builtin_index

    t0 = time.perf_counter()
    path = ensure_builtin_index()
    print(f"built-in index ready at {path} ({time.perf_counter() - t0:.1f}s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    from qa.engine import RETRIEVERS

    p = argparse.ArgumentParser(prog="python -m qa", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("ask", help="answer a question with cited passages")
    a.add_argument("question", nargs="+")
    a.add_argument("--index", type=Path, help="index folder (default: the built-in report)")
    a.add_argument("--k", type=int, default=5, help="number of passages (default 5)")
    a.add_argument("--json", action="store_true", help="print the structured answer as JSON")
    a.add_argument("--retriever", choices=RETRIEVERS, default="hybrid")
    a.add_argument("--doc", help="only this document id")
    a.add_argument("--year", type=int, help="only reports of this year")
    a.set_defaults(func=cmd_ask)
    pr = sub.add_parser("prepare", help="convert the model and build the built-in index")
    pr.set_defaults(func=cmd_prepare)
    from qa import feedback_cli

    feedback_cli.add_parser(sub)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
