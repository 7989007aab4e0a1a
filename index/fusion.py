"""Reciprocal rank fusion: combine rankings by rank, never by raw scores of different scales."""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60  # Cormack et al. (2009); Haystack uses 61. Larger k flattens the rank discount.


def rrf(
    rankings: Sequence[Sequence[int]],
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(d) = sum_i w_i / (k + rank_i(d)), rank 1-based.

    Returns (id, score) sorted by score descending; ties go to the id with the better
    best rank, then the smaller id, so the result is deterministic.
    """
    if k < 0:
        raise ValueError(f"rrf k must be >= 0, got {k}")
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    scores: dict[int, float] = {}
    best: dict[int, int] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        seen: set[int] = set()
        for r, doc in enumerate(ranking, 1):
            if doc in seen:
                continue
            seen.add(doc)
            scores[doc] = scores.get(doc, 0.0) + w / (k + r)
            best[doc] = min(best.get(doc, r), r)
    return sorted(scores.items(), key=lambda item: (-item[1], best[item[0]], item[0]))
