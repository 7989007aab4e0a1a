"""Pure retrieval / QA metric functions over plain Python data.

Nothing here touches files or global state, so every function can be unit-tested
with hand-computed values.  Ranks are 1-based; ``None`` means "no relevant hit".
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Sequence

_WS = re.compile(r"\s+")


def normalise(s: str) -> str:
    """Remove all whitespace so that gold strings match regardless of spacing.

    Chinese text is often split across lines or padded with spaces by the PDF/HTML
    extraction, so "5.2 %" and "5.2%" must compare equal.
    """
    return _WS.sub("", s)


def _golds(answers: Iterable[str]) -> list[str]:
    """Normalised, non-empty gold strings (an empty gold would match everything)."""
    return [g for g in (normalise(a) for a in answers) if g]


def is_relevant(text: str, answers: Iterable[str]) -> bool:
    """True when ``text`` contains any gold string, comparing whitespace-free forms."""
    norm = normalise(text)
    return any(g in norm for g in _golds(answers))


def relevance_list(hit_texts: Sequence[str], answers: Iterable[str]) -> list[bool]:
    """Binary relevance of each hit text, in the given (rank) order."""
    golds = _golds(answers)
    out = []
    for text in hit_texts:
        norm = normalise(text)
        out.append(any(g in norm for g in golds))
    return out


def first_relevant_rank(hit_texts: Sequence[str], answers: Iterable[str]) -> int | None:
    """1-based position of the first hit containing a gold string, or None.

    ``hit_texts`` must already be in rank order; the position in that sequence is
    the rank (so duplicate rank numbers in a run are resolved by list order).
    """
    golds = _golds(answers)
    for pos, text in enumerate(hit_texts, start=1):
        norm = normalise(text)
        if any(g in norm for g in golds):
            return pos
    return None


def first_matching_rank(doc_ids: Sequence[str], gold_doc_ids: Collection[str]) -> int | None:
    """1-based position of the first doc id that is in ``gold_doc_ids``, or None."""
    gold = set(gold_doc_ids)
    for pos, doc_id in enumerate(doc_ids, start=1):
        if doc_id in gold:
            return pos
    return None


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def hit_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Fraction of queries whose first relevant rank is <= k (0.0 for no queries).

    Callers that need "n/a" for an empty population should check emptiness first
    (see :func:`mean_or_none`); this function never divides by zero.
    """
    _check_k(k)
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def reciprocal_rank(rank: int | None, k: int) -> float:
    """1/rank when the first relevant hit is within k, else 0."""
    _check_k(k)
    if rank is None or rank > k:
        return 0.0
    return 1.0 / rank


def mrr_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Mean reciprocal rank cut off at k (0.0 for no queries)."""
    _check_k(k)
    if not ranks:
        return 0.0
    return sum(reciprocal_rank(r, k) for r in ranks) / len(ranks)


def dcg_at_k(relevances: Sequence[bool], k: int) -> float:
    """Discounted cumulative gain with binary gains: sum rel_i / log2(i + 1), i <= k."""
    _check_k(k)
    return sum(1.0 / math.log2(i + 1) for i, rel in enumerate(relevances[:k], start=1) if rel)


def ndcg_at_k(relevances: Sequence[bool], k: int) -> float:
    """Binary nDCG@k for one query.

    The ideal ordering is computed from the *retrieved list itself*: the number of
    relevant items R is the number of relevant hits anywhere in ``relevances`` (we
    have no exhaustive relevance judgements for the corpus), and IDCG places
    min(R, k) relevant hits at the top.  Hence the score is always in [0, 1]; it is
    1.0 when all found relevant hits are ranked first, and 0.0 when none is found
    (or none falls within k).
    """
    _check_k(k)
    n_rel = sum(1 for rel in relevances if rel)
    if n_rel == 0:
        return 0.0
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, min(n_rel, k) + 1))
    return dcg_at_k(relevances, k) / idcg


def answer_correct(answered: bool, answer: str | None, answers: Iterable[str]) -> bool:
    """True when the system answered and the shown answer contains a gold string."""
    return bool(answered) and answer is not None and is_relevant(answer, answers)


def mean_or_none(values: Sequence[float]) -> float | None:
    """Arithmetic mean, or None for an empty population (reported as "n/a")."""
    if not values:
        return None
    return sum(values) / len(values)


def rate(count: int, n: int) -> float | None:
    """count / n, or None when n == 0 (avoids a misleading 0% on no data)."""
    if n == 0:
        return None
    return count / n
