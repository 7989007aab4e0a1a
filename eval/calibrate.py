"""Fit the not-found decision: weights of ``qa.confidence`` and the threshold they imply.

The engine's evidence for every question of the given sets is collected, a class-balanced
L2 logistic regression separates answerable from unanswerable questions, and the trade-off
between unanswerable questions declined and answerable ones wrongly declined is tabulated.
Fitting is numpy only: a few hundred rows and eight features need nothing heavier.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from eval.scoring import EvalItem
from qa.confidence import FEATURES, Evidence, feature_vector
from qa.engine import QAEngine


@dataclass(frozen=True)
class Fit:
    """Weights per feature in FEATURES order (on raw feature values) and the bias."""

    weights: tuple[float, ...]
    bias: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(x @ np.asarray(self.weights) + self.bias)))


def collect(engine: QAEngine, items: Iterable[EvalItem]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows, labels (1 = answerable) and the shown passage's feature rows for the
    questions the engine can score. The fit reads the first: the evidence of the passage
    ranked first without the sentence-level similarity; the decision takes the lower
    probability of the two (:func:`decision_probability`)."""
    rows, labels, shown = [], [], []
    for it in items:
        ans = engine.ask(it.question)
        raw = (ans.extra or {}).get("evidence")
        if raw is None:  # nothing retrieved: declined before any evidence exists
            continue
        ev = Evidence(**raw)
        if ev.year_absent or ev.delivery_absent or ev.delivery_found:  # hand-set rules
            continue
        rows.append(feature_vector(ev))
        shown.append(feature_vector(Evidence(**ans.extra.get("shown_evidence", raw))))
        labels.append(1.0 if it.answerable else 0.0)
    shape = (-1, len(FEATURES))
    return (np.asarray(rows, dtype=np.float64).reshape(shape), np.asarray(labels),
            np.asarray(shown, dtype=np.float64).reshape(shape))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.1, steps: int = 4000,
                 rate: float = 0.1) -> Fit:
    """Class-balanced logistic regression by gradient descent on standardised features."""
    if len(set(y.tolist())) < 2:
        raise ValueError("calibration needs both answerable and unanswerable questions")
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mu) / sd
    w, b = np.zeros(z.shape[1]), 0.0
    balance = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        g = (p - y) * balance
        w -= rate * (z.T @ g / len(y) + l2 * w)
        b -= rate * float(g.mean())
    raw = w / sd
    return Fit(tuple(float(v) for v in raw), float(b - raw @ mu))


def decision_probability(fit: Fit, x: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """What the engine compares with its threshold: the lower of the two passages'
    probabilities (see :func:`collect`)."""
    return np.minimum(fit.probability(x), fit.probability(shown))


def tradeoff(p: np.ndarray, y: np.ndarray,
             thresholds: Sequence[float]) -> list[tuple[float, float, float]]:
    """(threshold, share of unanswerable declined, share of answerable declined)."""
    out = []
    for t in thresholds:
        declined = float((p[y == 0] < t).mean()) if (y == 0).any() else 0.0
        wrong = float((p[y == 1] < t).mean()) if (y == 1).any() else 0.0
        out.append((float(t), declined, wrong))
    return out


def best_threshold(p: np.ndarray, y: np.ndarray, max_wrong: float) -> tuple[float, float, float]:
    """Among thresholds wrongly declining at most ``max_wrong``, the one that best separates:
    most unanswerable declined minus answerable wrongly declined (Youden's J), then most
    declined. Maximising declines alone walks to the edge of the cap where the curve is flat
    (one more question declined for several more wrongly declined)."""
    grid = tradeoff(p, y, [round(t, 2) for t in np.arange(0.05, 0.96, 0.01)])
    ok = [row for row in grid if row[2] <= max_wrong] or [grid[0]]
    return max(ok, key=lambda r: (round(r[1] - r[2], 9), r[1], -r[0]))


def stable_threshold(p: np.ndarray, y: np.ndarray, max_wrong: float, rounds: int = 200,
                     seed: int = 0) -> tuple[float, float, float]:
    """:func:`best_threshold`'s pick made stable: the median of its picks over bootstrap
    resamples of the questions (fixed seed), with the declined and wrongly declined shares
    it gives on all of them. Where the trade-off curve is flat, one question more or less
    moves the single pick across the flat stretch (0.37 to 0.41 on the shipped sets)."""
    rng = np.random.default_rng(seed)
    picks = []
    for _ in range(rounds):
        i = rng.integers(0, len(y), len(y))
        if len(set(y[i].tolist())) == 2:
            picks.append(best_threshold(p[i], y[i], max_wrong)[0])
    t = round(float(np.median(picks)), 2) if picks else best_threshold(p, y, max_wrong)[0]
    ((_, declined, wrong),) = tradeoff(p, y, [t])
    return t, declined, wrong
