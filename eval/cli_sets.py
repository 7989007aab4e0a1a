"""``python -m eval sets``: every shipped set's figures in one table, optionally under
changed answering settings (``--config w_sentence=0.6``), so a setting's choice can be
checked by anyone: the fit sets are what it was chosen on, the others show what it does
on questions it was not chosen on.
Exit codes: 0 done, 2 bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

_COLUMNS = ("hit@1", "hit@5", "mrr@10", "answer_acc", "wrongly_declined_rate")
_LABELS = ("hit@1", "hit@5", "MRR@10", "answer", "wr.decl")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "sets", help="hybrid figures of every shipped question set in one table",
        description="Answer every shipped question set with the hybrid pipeline and print "
                    "hit@1, hit@5, MRR@10, answer accuracy, wrongly declined and declined "
                    "per set, pooled over the fit sets and over the others.")
    p.add_argument("--set", action="append", default=None, dest="sets",
                   help="only this set (repeatable; default: all)")
    p.add_argument("--config", action="append", default=[], metavar="NAME=VALUE",
                   help="an answering setting of qa.engine.QAConfig to change for this run "
                        "(repeatable), e.g. w_sentence=0.6")
    p.set_defaults(handler=handle)
    return p


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs as QAConfig fields of the field's own type (ValueError if a
    name is not a field or a value does not fit it)."""
    from qa.engine import QAConfig

    fields = {f.name: type(getattr(QAConfig(), f.name)) for f in dataclasses.fields(QAConfig)}
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or name not in fields:
            raise ValueError(f"not a setting NAME=VALUE: {pair!r}; settings: "
                             + ", ".join(sorted(fields)))
        kind = fields[name]
        try:
            out[name] = kind(value.strip())
        except ValueError:
            raise ValueError(f"{name} takes {kind.__name__} values, not {value!r}") from None
    return out


def _row(name: str, role: str, o: dict, u: dict) -> str:
    cells = " ".join(f"{o[c]:>7.3f}" if o[c] is not None else f"{'-':>7}" for c in _COLUMNS)
    return (f"{name:<15}{role:<8}{o['n_questions']:>5} {cells}  "
            f"{u['declined']}/{u['n_unanswerable']}")


def handle(args: argparse.Namespace) -> int:
    from eval.runner import run_questions
    from eval.scoring import load_questions, run_from_records, score
    from eval.sets import FIT_ROLES, SETS, get_set, index_for
    from index.store import IndexLoadError
    from qa.engine import QAConfig, QAEngine

    try:
        config = dataclasses.replace(QAConfig(), **parse_overrides(args.config))
        chosen = [get_set(n) for n in args.sets] if args.sets else list(SETS)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    changed = ", ".join(args.config) or "none (the shipped settings)"
    print(f"settings changed: {changed}")
    print(f"{'set':<15}{'role':<8}{'n':>5} " + " ".join(f"{c:>7}" for c in _LABELS)
          + "  declined")
    engines: dict[Any, QAEngine] = {}
    pooled = {g: {"q": 0, "n": 0, "h1": 0.0, "h5": 0.0, "acc": 0.0, "wd": 0.0, "dec": 0, "una": 0}
              for g in ("fit", "other")}
    for qset in chosen:
        try:
            index = index_for(qset)
            engine = engines.get(index) or engines.setdefault(
                index, QAEngine.from_path(index, config))
            items = load_questions(qset.questions)
        except (ValueError, OSError, IndexLoadError) as e:
            print(f"error: {qset.name}: {e}", file=sys.stderr)
            return 2
        records, _ = run_questions(engine, items)
        res = score(items, run_from_records(records), warn=None)
        o, u = res["overall"], res["unanswerable"]
        print(_row(qset.name, qset.role, o, u), flush=True)
        g = pooled["fit" if qset.role in FIT_ROLES else "other"]
        n = o["n_answerable"]
        g["n"] += n
        g["q"] += o["n_questions"]
        for key, col in (("h1", "hit@1"), ("h5", "hit@5"), ("acc", "answer_acc"),
                         ("wd", "wrongly_declined_rate")):
            g[key] += (o[col] or 0.0) * n
        g["dec"] += u["declined"]
        g["una"] += u["n_unanswerable"]
    for name, g in pooled.items():
        if g["n"]:
            n = g["n"]
            share = f" ({g['dec'] / g['una']:.1%})" if g["una"] else ""
            print(f"{'pooled ' + name:<23}{g['q']:>5} {g['h1'] / n:>7.3f} {g['h5'] / n:>7.3f} "
                  f"{'':>7} {g['acc'] / n:>7.3f} {g['wd'] / n:>7.3f}  "
                  f"{g['dec']}/{g['una']}{share}")
    return 0
