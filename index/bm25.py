"""BM25 (Okapi, as rank-bm25 computes it) over an inverted index.

rank-bm25 scores every passage in Python for each query term, which is slow for large
corpora. We take its idf table and length statistics and store per-term postings, so a
query touches only the passages that contain its terms; the scores are the same.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np


class BM25:
    """Okapi BM25 with rank-bm25's idf floor (epsilon * average idf for common terms)."""

    def __init__(
        self, corpus_tokens: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75
    ) -> None:
        from rank_bm25 import BM25Okapi

        self.k1, self.b = k1, b
        self.size = len(corpus_tokens)
        if self.size == 0:
            raise ValueError("BM25 needs at least one passage")
        safe = [list(t) if t else [""] for t in corpus_tokens]
        okapi = BM25Okapi(safe, k1=k1, b=b)
        doc_len = np.asarray(okapi.doc_len, dtype=np.float64)
        norm = k1 * (1 - b + b * doc_len / okapi.avgdl)
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for d, freqs in enumerate(okapi.doc_freqs):
            for term, tf in freqs.items():
                ids, ws = postings.setdefault(term, ([], []))
                ids.append(d)
                ws.append(tf * (k1 + 1) / (tf + norm[d]))
        self._idf = {t: float(v) for t, v in okapi.idf.items()}
        self._post = {
            t: (np.asarray(ids, dtype=np.int64), np.asarray(ws, dtype=np.float64))
            for t, (ids, ws) in postings.items()
        }

    def idf(self, term: str) -> float:
        """The term's idf (0 for a term no passage contains)."""
        return self._idf.get(term, 0.0)

    def vocabulary(self) -> list[str]:
        """Every term some passage contains, sorted."""
        return sorted(t for t in self._idf if t)

    def passages_with(self, term: str) -> np.ndarray:
        """Indices of the passages containing ``term`` (ascending; empty when none)."""
        post = self._post.get(term)
        return post[0] if post is not None else np.zeros(0, dtype=np.int64)

    def median_idf(self) -> float:
        """Median idf over the vocabulary: a neutral weight for a word the corpus lacks."""
        return self._median

    @functools.cached_property
    def _median(self) -> float:
        vals = sorted(self._idf.values())  # once: questions ask for it several times
        return vals[len(vals) // 2] if vals else 1.0

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every passage for the query (zeros when no term matches)."""
        out = np.zeros(self.size, dtype=np.float64)
        for t in query_tokens:
            post = self._post.get(t)
            if post is not None:
                ids, ws = post
                out[ids] += self._idf.get(t, 0.0) * ws
        return out

    def top(self, query_tokens: Sequence[str], n: int) -> list[tuple[int, float]]:
        """The ``n`` best (passage index, score) with score > 0, best first, ties by index."""
        return top_positive(self.scores(query_tokens), n)


def top_positive(scores: np.ndarray, n: int) -> list[tuple[int, float]]:
    """The ``n`` highest positive scores as (index, score), best first, ties by index.

    Partial selection (argpartition) first, so only the few best are sorted; every index
    tied with the n-th score is kept before the final sort, which keeps ties deterministic.
    """
    idx = np.flatnonzero(scores > 0)
    if idx.size == 0 or n <= 0:
        return []
    vals = scores[idx]
    if idx.size > n:
        kth = vals[np.argpartition(-vals, n - 1)[n - 1]]
        keep = vals >= kth
        idx, vals = idx[keep], vals[keep]
    order = np.lexsort((idx, -vals))[:n]
    return [(int(idx[i]), float(vals[i])) for i in order]
