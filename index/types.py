"""Retrieval result type: a passage with the evidence of why it came up."""

from __future__ import annotations

from dataclasses import dataclass

from corpus.types import Chunk


@dataclass(frozen=True)
class Hit:
    """One retrieved passage; ranks are 1-based, None when that retriever did not return it."""

    chunk: Chunk
    rank: int
    score: float
    bm25_rank: int | None = None
    dense_rank: int | None = None
    bm25_score: float | None = None
    dense_score: float | None = None
