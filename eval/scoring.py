"""Load question / run files and score a run against gold answers.

The result of :func:`score` is a plain JSON-serialisable dict so it can be written
to disk, diffed between runs, and consumed by other tools (report, bench).
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval import metrics

K_VALUES = (1, 3, 5, 10)
CUTOFF = 10
PASSAGE_PREVIEW_CHARS = 80

METRIC_KEYS = (
    "hit@1",
    "hit@3",
    "hit@5",
    "hit@10",
    "mrr@10",
    "ndcg@10",
    "answer_acc",
    "declined_rate",
    "wrongly_declined_rate",
)
# Informal names accepted by check_thresholds: alias -> (metric key, "min" | "max").
THRESHOLD_ALIASES = {
    "declined": ("declined_rate", "min"),
    "wrongly_declined_max": ("wrongly_declined_rate", "max"),
}

FAILURE_KINDS = ("retrieval_miss", "low_rank", "wrong_answer", "answered_unanswerable")


@dataclass(frozen=True)
class EvalItem:
    """One gold question. ``answers == ()`` marks it unanswerable."""

    id: str
    question: str
    answers: tuple[str, ...]
    type: str
    section: str
    gold_doc_ids: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class Hit:
    """One retrieved passage as recorded in a run file."""

    rank: int
    text: str
    doc_id: str = ""
    chunk_id: str = ""
    section: str = ""
    start: int | None = None
    end: int | None = None
    score: float | None = None


@dataclass(frozen=True)
class RunRecord:
    """What the system did for one question: retrieved hits and the shown answer."""

    id: str
    question: str
    answered: bool
    answer: str
    hits: tuple[Hit, ...] = ()

    def ordered_hits(self) -> tuple[Hit, ...]:
        """Hits sorted by rank; equal ranks keep their list order (stable sort)."""
        return tuple(sorted(self.hits, key=lambda h: h.rank))


# --------------------------------------------------------------------------- loading


def _read_jsonl(path: str | Path) -> Iterable[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; ValueError names file:line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{p}: not valid UTF-8 ({exc.reason})") from None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            msg = f"{p}:{lineno}: invalid JSON: {exc.msg} (column {exc.colno})"
            raise ValueError(msg) from None
        if not isinstance(obj, dict):
            # ValueError, not TypeError: this is bad *input data*, reported as such.
            got = type(obj).__name__
            raise ValueError(f"{p}:{lineno}: expected a JSON object, got {got}")  # noqa: TRY004
        yield lineno, obj


def _where(path: str | Path, lineno: int) -> str:
    return f"{Path(path)}:{lineno}"


def _require(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in obj:
        raise ValueError(f"{where}: missing required field {key!r}")
    value = obj[key]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ValueError(f"{where}: field {key!r} must be {names}, got {type(value).__name__}")
    return value


def _str_list(obj: Mapping[str, Any], key: str, where: str, required: bool) -> tuple[str, ...]:
    if key not in obj or (not required and obj[key] is None):
        if required:
            raise ValueError(f"{where}: missing required field {key!r}")
        return ()
    value = obj[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: field {key!r} must be a list of strings")
    return tuple(value)


def load_questions(path: str | Path) -> list[EvalItem]:
    """Read a question JSONL file. Raises ValueError (naming file:line) on bad input."""
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    for lineno, obj in _read_jsonl(path):
        where = _where(path, lineno)
        qid = _require(obj, "id", str, where)
        if qid in seen:
            raise ValueError(f"{where}: duplicate question id {qid!r} (first on line {seen[qid]})")
        seen[qid] = lineno
        items.append(
            EvalItem(
                id=qid,
                question=_require(obj, "question", str, where),
                answers=_str_list(obj, "answers", where, required=True),
                type=_require(obj, "type", str, where),
                section=_require(obj, "section", str, where),
                gold_doc_ids=_str_list(obj, "gold_doc_ids", where, required=False),
            )
        )
    return items


def _optional(
    hit: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any
) -> Any:
    value = hit.get(key)
    if value is None:
        return default
    if not isinstance(value, kind) or isinstance(value, bool):
        got = type(value).__name__
        raise ValueError(f"{where}: hit field {key!r} has wrong type {got}")  # noqa: TRY004
    return value


def _parse_hit(raw: Any, where: str) -> Hit:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: each hit must be a JSON object")  # noqa: TRY004
    rank = _require(raw, "rank", int, where)
    if rank < 1:
        raise ValueError(f"{where}: hit rank must be >= 1, got {rank}")
    return Hit(
        rank=rank,
        text=_require(raw, "text", str, where),
        doc_id=_optional(raw, "doc_id", str, where, ""),
        chunk_id=str(_optional(raw, "chunk_id", (str, int), where, "")),
        section=_optional(raw, "section", str, where, ""),
        start=_optional(raw, "start", int, where, None),
        end=_optional(raw, "end", int, where, None),
        score=_optional(raw, "score", (int, float), where, None),
    )


def load_run(path: str | Path) -> dict[str, RunRecord]:
    """Read a run JSONL file into {question id: RunRecord} (file order, hits rank-sorted).

    ``answer`` may be null when ``answered`` is false. Duplicate ids are an error.
    """
    return _parse_run(_read_jsonl(path), path)


def run_from_records(records: Iterable[Mapping[str, Any]]) -> dict[str, RunRecord]:
    """The records :func:`eval.runner.run_questions` returns, read as :func:`load_run` reads
    their run file (no file written)."""
    return _parse_run(enumerate(records, start=1), "run records")


def _parse_run(rows: Iterable[tuple[int, Any]], source: str | Path) -> dict[str, RunRecord]:
    run: dict[str, RunRecord] = {}
    seen: dict[str, int] = {}
    for lineno, obj in rows:
        where = _where(source, lineno)
        qid = _require(obj, "id", str, where)
        if qid in seen:
            raise ValueError(f"{where}: duplicate run id {qid!r} (first on line {seen[qid]})")
        seen[qid] = lineno
        answer = obj.get("answer")
        if answer is not None and not isinstance(answer, str):
            raise ValueError(f"{where}: field 'answer' must be a string or null")
        hits_raw = _require(obj, "hits", list, where)
        hits = tuple(_parse_hit(h, where) for h in hits_raw)
        question = obj.get("question")
        run[qid] = RunRecord(
            id=qid,
            question=question if isinstance(question, str) else "",
            answered=_require(obj, "answered", bool, where),
            answer=answer or "",
            hits=tuple(sorted(hits, key=lambda h: h.rank)),
        )
    return run


# --------------------------------------------------------------------------- scoring


def _warn_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _preview(text: str | None, limit: int = PASSAGE_PREVIEW_CHARS) -> str | None:
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _id_list(ids: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f", … (+{len(ids) - limit} more)" if len(ids) > limit else "")


def _group_metrics(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Breakdown metrics for one type/section group (answerable + unanswerable parts)."""
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    ranks = [r["first_relevant_rank"] for r in ans]
    return {
        "n": len(ans),
        "hit@1": metrics.hit_at_k(ranks, 1) if ans else None,
        "hit@5": metrics.hit_at_k(ranks, 5) if ans else None,
        "mrr@10": metrics.mrr_at_k(ranks, CUTOFF) if ans else None,
        "answer_acc": metrics.rate(sum(r["answer_correct"] for r in ans), len(ans)),
        "n_unanswerable": len(una),
        "declined_rate": metrics.rate(sum(not r["answered"] for r in una), len(una)),
    }


def _as_run_map(run: Mapping[str, RunRecord] | Iterable[RunRecord]) -> dict[str, RunRecord]:
    if isinstance(run, Mapping):
        return dict(run)
    out: dict[str, RunRecord] = {}
    for rec in run:
        out.setdefault(rec.id, rec)
    return out


def score(
    items: Sequence[EvalItem],
    run: Mapping[str, RunRecord] | Iterable[RunRecord],
    *,
    warn: Callable[[str], None] | None = _warn_stderr,
) -> dict[str, Any]:
    """Score a run against gold items; return a JSON-serialisable result dict.

    Ranks are positions in the rank-sorted hit list (ties keep list order). A
    question absent from the run counts as "no hits, not answered" and triggers a
    warning (also recorded under ``"warnings"``). Metrics over an empty population
    are None. Retrieval metrics and answer accuracy use answerable questions only.
    """
    run_map = _as_run_map(run)
    warnings: list[str] = []
    item_ids = {it.id for it in items}
    missing = [it.id for it in items if it.id not in run_map]
    if missing:
        warnings.append(f"{len(missing)} question id(s) missing from run: {_id_list(missing)}")
    extra = [rid for rid in run_map if rid not in item_ids]
    if extra:
        warnings.append(f"{len(extra)} run id(s) not in question file: {_id_list(extra)}")
    if warn is not None:
        for message in warnings:
            warn(message)

    rows: list[dict[str, Any]] = []
    for it in items:
        rec = run_map.get(it.id)
        hits = rec.ordered_hits() if rec else ()
        texts = [h.text for h in hits]
        answered = rec.answered if rec else False
        answer = rec.answer if rec else ""
        rels = metrics.relevance_list(texts, it.answers) if it.answerable else []
        first = next((i for i, rel in enumerate(rels, start=1) if rel), None)
        doc_rank = (
            metrics.first_matching_rank([h.doc_id for h in hits], it.gold_doc_ids)
            if it.gold_doc_ids
            else None
        )
        rows.append(
            {
                "id": it.id,
                "type": it.type,
                "section": it.section,
                "answerable": it.answerable,
                "missing_from_run": rec is None,
                "n_hits": len(hits),
                "first_relevant_rank": first,
                "ndcg@10": metrics.ndcg_at_k(rels, CUTOFF) if it.answerable else None,
                "answered": answered,
                "answer_correct": (
                    metrics.answer_correct(answered, answer, it.answers) if it.answerable else None
                ),
                "doc_rank": doc_rank,
                # kept for the failure list, stripped from per_question below
                "_item": it,
                "_answer": answer,
                "_rank1": texts[0] if texts else None,
            }
        )

    ans_rows = [r for r in rows if r["answerable"]]
    una_rows = [r for r in rows if not r["answerable"]]
    ranks = [r["first_relevant_rank"] for r in ans_rows]
    n_ans, n_una = len(ans_rows), len(una_rows)
    declined = sum(not r["answered"] for r in una_rows)
    wrongly_declined = sum(not r["answered"] for r in ans_rows)
    n_correct = sum(r["answer_correct"] for r in ans_rows)

    overall: dict[str, Any] = {
        "n_questions": len(rows),
        "n_answerable": n_ans,
        "n_unanswerable": n_una,
        "n_missing_from_run": len(missing),
    }
    for k in K_VALUES:
        overall[f"hit@{k}"] = metrics.hit_at_k(ranks, k) if n_ans else None
    overall["mrr@10"] = metrics.mrr_at_k(ranks, CUTOFF) if n_ans else None
    overall["ndcg@10"] = metrics.mean_or_none([r["ndcg@10"] for r in ans_rows])
    overall["answer_acc"] = metrics.rate(n_correct, n_ans)
    overall["declined_rate"] = metrics.rate(declined, n_una)
    overall["wrongly_declined_rate"] = metrics.rate(wrongly_declined, n_ans)

    unanswerable = {
        "n_unanswerable": n_una,
        "declined": declined,
        "declined_rate": overall["declined_rate"],
        "n_answerable": n_ans,
        "wrongly_declined": wrongly_declined,
        "wrongly_declined_rate": overall["wrongly_declined_rate"],
    }

    doc_rows = [r for r in rows if r["_item"].gold_doc_ids]
    doc_ranks = [r["doc_rank"] for r in doc_rows]
    doc_level: dict[str, Any] = {"n": len(doc_rows)}
    for k in K_VALUES:
        doc_level[f"hit@{k}"] = metrics.hit_at_k(doc_ranks, k) if doc_rows else None

    by_type = {
        key: _group_metrics([r for r in rows if r["type"] == key])
        for key in sorted({r["type"] for r in rows})
    }
    by_section = {
        key: _group_metrics([r for r in rows if r["section"] == key])
        for key in sorted({r["section"] for r in rows})
    }

    return {
        "overall": overall,
        "by_type": by_type,
        "by_section": by_section,
        "unanswerable": unanswerable,
        "doc_level": doc_level,
        "failures": _failures(rows),
        "warnings": warnings,
        "per_question": [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
    }


def _failures(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failures worst first: misses, low ranks (desc), wrong answers, answered unanswerables."""
    keyed: list[tuple[tuple[int, int], dict[str, Any]]] = []
    for r in rows:
        rank = r["first_relevant_rank"]
        if r["answerable"]:
            if rank is None or rank > CUTOFF:
                kind, key = "retrieval_miss", (0, 0)
            elif rank > 1:
                kind, key = "low_rank", (1, -rank)
            elif not r["answer_correct"]:
                kind, key = "wrong_answer", (2, 0)
            else:
                continue
        elif r["answered"]:
            kind, key = "answered_unanswerable", (3, 0)
        else:
            continue
        it: EvalItem = r["_item"]
        keyed.append(
            (
                key,
                {
                    "id": it.id,
                    "kind": kind,
                    "type": it.type,
                    "section": it.section,
                    "question": it.question,
                    "gold": list(it.answers),
                    "first_relevant_rank": rank,
                    "rank1_text": _preview(r["_rank1"]),
                    "answered": r["answered"],
                    "answer": r["_answer"],
                    "answer_correct": r["answer_correct"],
                    "missing_from_run": r["missing_from_run"],
                },
            )
        )
    keyed.sort(key=lambda pair: pair[0])  # stable: question-file order within a key
    return [f for _, f in keyed]


# --------------------------------------------------------------------------- thresholds


def _resolve_name(name: str, default_bound: str) -> tuple[str, str]:
    if name in METRIC_KEYS:
        return name, default_bound
    if name in THRESHOLD_ALIASES:
        return THRESHOLD_ALIASES[name]
    valid = ", ".join(METRIC_KEYS + tuple(THRESHOLD_ALIASES))
    raise ValueError(f"unknown metric {name!r}; valid names: {valid}")


def check_thresholds(
    result: Mapping[str, Any],
    mins: Mapping[str, float] | None = None,
    maxs: Mapping[str, float] | None = None,
) -> list[str]:
    """Return a message for each failed threshold (empty list = all met).

    ``mins`` are lower bounds, ``maxs`` upper bounds, on ``result["overall"]`` metrics.
    Aliases: ``declined`` (min on declined_rate) and ``wrongly_declined_max`` (max on
    wrongly_declined_rate, even when given in ``mins``). A metric that is n/a (None)
    fails its threshold, because it cannot be verified. Unknown names raise ValueError
    listing the valid names (checked before anything is evaluated).
    """
    checks: list[tuple[str, str, float]] = []
    for bounds, default_bound in ((mins or {}, "min"), (maxs or {}, "max")):
        for name, limit in bounds.items():
            key, bound = _resolve_name(name, default_bound)
            checks.append((key, bound, float(limit)))

    overall = result["overall"]
    failed: list[str] = []
    eps = 1e-12
    for key, bound, limit in checks:
        value = overall.get(key)
        if value is None:
            failed.append(f"{key} = n/a (required {'>=' if bound == 'min' else '<='} {limit:g})")
        elif bound == "min" and value < limit - eps:
            failed.append(f"{key} = {value:.4f} < min {limit:g}")
        elif bound == "max" and value > limit + eps:
            failed.append(f"{key} = {value:.4f} > max {limit:g}")
    return failed


# --------------------------------------------------------------------------- report


def _width(s: str) -> int:
    """Terminal display width (CJK characters take two columns)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _cell(s: str, width: int, right: bool = False) -> str:
    pad = " " * max(0, width - _width(s))
    return pad + s if right else s + pad


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Aligned text table; first column left-aligned, the rest right-aligned."""
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  " + "  ".join(
            _cell(c, w, right=i > 0) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return [line(headers), "  " + "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def _breakdown(title: str, groups: Mapping[str, Mapping[str, Any]]) -> list[str]:
    headers = ["group", "n", "hit@1", "hit@5", "mrr@10", "ans_acc", "n_unans", "declined"]
    keys = ["n", "hit@1", "hit@5", "mrr@10", "answer_acc", "n_unanswerable", "declined_rate"]
    rows = [[name or "(none)"] + [_fmt(g.get(k)) for k in keys] for name, g in groups.items()]
    return [title] + (_table(headers, rows) if rows else ["  (no questions)"])


def format_report(result: Mapping[str, Any], *, max_failures: int | None = 50) -> str:
    """Render a score() result as a readable plain-text report."""
    o = result["overall"]
    u = result["unanswerable"]
    d = result["doc_level"]
    lines = [
        "Evaluation report",
        "=================",
        (
            f"questions: {o['n_questions']}  answerable: {o['n_answerable']}  "
            f"unanswerable: {o['n_unanswerable']}  missing from run: {o['n_missing_from_run']}"
        ),
        "",
        f"Overall (answerable questions, n={o['n_answerable']})",
    ]
    overall_keys = ["hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10", "answer_acc"]
    lines += _table(["metric", "value"], [[k, _fmt(o[k])] for k in overall_keys])
    lines += [
        "",
        "Unanswerable / declining",
        (
            f"  declined correctly: {u['declined']}/{u['n_unanswerable']} "
            f"({_fmt(u['declined_rate'])})"
        ),
        (
            f"  wrongly declined:   {u['wrongly_declined']}/{u['n_answerable']} "
            f"({_fmt(u['wrongly_declined_rate'])})"
        ),
        "",
        f"Document level (questions with gold_doc_ids, n={d['n']})",
        "  " + "  ".join(f"hit@{k} {_fmt(d[f'hit@{k}'])}" for k in K_VALUES),
        "",
    ]
    lines += _breakdown("By type", result["by_type"])
    lines.append("")
    lines += _breakdown("By section", result["by_section"])
    lines.append("")

    failures = result["failures"]
    lines.append(f"Failures ({len(failures)}, worst first)")
    if not failures:
        lines.append("  none")
    shown = failures if max_failures is None else failures[:max_failures]
    for i, f in enumerate(shown, start=1):
        rank = f["first_relevant_rank"]
        rank_s = "none" if rank is None else str(rank)
        missing = "  [missing from run]" if f["missing_from_run"] else ""
        answer = _preview(f["answer"], 120) if f["answered"] else "(declined)"
        lines += [
            (
                f"  {i}. [{f['kind']}] {f['id']} ({f['type']} / {f['section'] or '-'}) "
                f"first relevant rank: {rank_s}{missing}"
            ),
            f"     Q:      {f['question']}",
            f"     gold:   {' | '.join(f['gold']) if f['gold'] else '(unanswerable)'}",
            f"     rank-1: {f['rank1_text'] if f['rank1_text'] is not None else '(no hits)'}",
            f"     answer: {answer}",
        ]
    if len(shown) < len(failures):
        lines.append(f"  … {len(failures) - len(shown)} more (see JSON output)")
    if result.get("warnings"):
        lines += ["", "Warnings"] + [f"  {w}" for w in result["warnings"]]
    return "\n".join(lines) + "\n"
