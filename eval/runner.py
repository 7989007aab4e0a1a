"""Produce run files: ask every question of a set and record exactly what the chat shows."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path

from eval.scoring import EvalItem
from qa.engine import QAEngine
from qa.types import Answer

BUILTIN_QUESTIONS = Path(__file__).resolve().parent / "data" / "builtin_questions.jsonl"


def run_record(item_id: str, ans: Answer) -> dict:
    """One run-file line: answered/answer as shown, hits with their locations."""
    return {
        "id": item_id,
        "question": ans.question,
        "understood": ans.understood,
        "answered": ans.answered,
        "answer": ans.answer,
        "confidence": round(ans.confidence, 4),
        "hits": [
            {"rank": c.number, "doc_id": c.doc_id, "chunk_id": c.chunk_id, "section": c.section,
             "start": c.start, "end": c.end, "text": c.text, "score": c.score,
             "bm25_rank": c.bm25_rank, "dense_rank": c.dense_rank}
            for c in ans.citations
        ],
    }


def run_questions(
    engine: QAEngine, items: Iterable[EvalItem], retriever: str = "hybrid", k: int = 10
) -> tuple[list[dict], list[float]]:
    """Answer each item; returns run records and per-question latencies in seconds."""
    records, latencies = [], []
    for it in items:
        t0 = time.perf_counter()
        ans = engine.ask(it.question, k=k, retriever=retriever)
        latencies.append(time.perf_counter() - t0)
        records.append(run_record(it.id, ans))
    return records, latencies


def write_run(records: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
