"""``python -m eval calibrate``: fit the not-found decision and show its trade-off.

Prints the weights to paste into ``qa/confidence.py`` and, for the threshold that best
separates the classes within the allowed share of wrongly declined ones (the median pick
over bootstrap resamples of the fit questions), what that threshold does on the fit sets
and on the check sets (never fitted on).
Exit codes: 0 done, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "calibrate", help="fit the not-found decision's weights and threshold",
        description="Fit qa.confidence's weights on question sets and report the "
                    "declined / wrongly declined trade-off, also on sets not fitted on.")
    p.add_argument("--questions", type=Path, action="append", default=None,
                   help="question JSONL to fit on (repeatable; default: the shipped sets "
                        "whose role is tuned or fit, each on its own report)")
    p.add_argument("--check", type=Path, action="append", default=None,
                   help="question JSONL to check on, not fitted (repeatable; default: the "
                        "other shipped sets)")
    p.add_argument("--index", type=Path, default=None,
                   help="index folder for --questions/--check (default: the built-in report)")
    p.add_argument("--max-wrongly-declined", type=float, default=0.04,
                   help="share of answerable questions the threshold may decline on the "
                        "fit sets (default 0.04, under the 5%% target for unseen sets)")
    p.add_argument("--json", type=Path, default=None, help="also write the fit as JSON")
    p.set_defaults(handler=handle)
    return p


def _fmt_weights(names, fit) -> str:
    body = ", ".join(f'"{n}": {w:.2f}' for n, w in zip(names, fit.weights, strict=True))
    return f"WEIGHTS = {{{body}}}\nBIAS = {fit.bias:.2f}"


def handle(args: argparse.Namespace) -> int:
    import numpy as np

    from eval.calibrate import (
        collect,
        decision_probability,
        fit_logistic,
        stable_threshold,
        tradeoff,
    )
    from eval.scoring import load_questions
    from eval.sets import FIT_ROLES, SETS, index_for
    from index.build import ensure_builtin_index
    from index.store import IndexLoadError
    from qa.confidence import FEATURES
    from qa.engine import QAEngine

    try:
        if args.questions or args.check is not None:
            index = args.index or ensure_builtin_index()
            fit_paths = args.questions or []
            indexes = {p: index for p in [*fit_paths, *(args.check or [])]}
        else:
            fit_paths = [s.questions for s in SETS if s.role in FIT_ROLES]
            indexes = {s.questions: index_for(s) for s in SETS}
        if not fit_paths:
            raise ValueError("nothing to fit on: give --questions")
        check_paths = [p for p in indexes if p not in fit_paths]
        engines = {i: QAEngine.from_path(i) for i in dict.fromkeys(indexes.values())}
        sets = {p: load_questions(p) for p in indexes}
    except (ValueError, OSError, IndexLoadError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    data = {p: collect(engines[indexes[p]], items) for p, items in sets.items()}
    x = np.vstack([data[p][0] for p in fit_paths])
    y = np.concatenate([data[p][1] for p in fit_paths])
    shown = np.vstack([data[p][2] for p in fit_paths])
    try:
        fit = fit_logistic(x, y)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    t, declined, wrong = stable_threshold(decision_probability(fit, x, shown), y,
                                          args.max_wrongly_declined)
    print(f"fitted on {len(y)} questions ({int((y == 0).sum())} unanswerable) from "
          + ", ".join(p.name for p in fit_paths))
    print(_fmt_weights(FEATURES, fit))
    print(f"min_confidence = {t:.2f}: declines {declined:.1%} of unanswerable, "
          f"{wrong:.1%} of answerable wrongly (fit sets)")
    rows = []
    for p in [*fit_paths, *check_paths]:
        xs, ys, shown_xs = data[p]
        ((_, d, w),) = tradeoff(decision_probability(fit, xs, shown_xs), ys, [t])
        role = "fit" if p in fit_paths else "check"
        rows.append({"set": p.name, "role": role, "questions": len(ys),
                     "declined": d, "wrongly_declined": w})
        print(f"  {p.name:<32} {role:<5} n={len(ys):<4} declined {d:6.1%}  "
              f"wrongly declined {w:6.1%}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "features": list(FEATURES), "weights": list(fit.weights), "bias": fit.bias,
            "min_confidence": t, "sets": rows}, indent=2) + "\n", encoding="utf-8")
    return 0
