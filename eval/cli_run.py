"""``python -m eval run``: write a run file for a question set."""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("run", help="answer every question and write a run JSONL")
    p.add_argument("--set", default=None, dest="qset",
                   help="a shipped question set by name (eval/sets.py): its questions and "
                        "its report's index")
    p.add_argument("--questions", type=Path, default=None,
                   help="question JSONL (default: the built-in set)")
    p.add_argument("--index", type=Path, default=None,
                   help="index folder (default: the built-in report, built if missing)")
    p.add_argument("--retriever", choices=("hybrid", "naive", "bm25", "dense"),
                   default="hybrid")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--out", type=Path, required=True, help="run JSONL to write")
    p.set_defaults(handler=handle)
    return p


def handle(args: argparse.Namespace) -> int:
    from eval.runner import run_questions, write_run
    from eval.scoring import load_questions
    from eval.sets import questions_and_index
    from index.store import IndexLoadError
    from qa.engine import QAEngine

    try:
        questions, index = questions_and_index(args.qset, args.questions, args.index)
        items = load_questions(questions)
        engine = QAEngine.from_path(index)
    except (ValueError, OSError, IndexLoadError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    records, lat = run_questions(engine, items, args.retriever, args.k)
    write_run(records, args.out)
    ms = sorted(x * 1000 for x in lat)
    print(f"wrote {len(records)} answers to {args.out} (retriever {args.retriever}); "
          f"latency p50 {statistics.median(ms):.1f} ms, p95 {ms[int(0.95 * (len(ms) - 1))]:.1f} ms")
    return 0
