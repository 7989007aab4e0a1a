"""The not-found decision's calibration: the fit itself, the command, and that the shipped
weights are what the command produces on the shipped question sets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eval.calibrate import (
    best_threshold,
    collect,
    decision_probability,
    fit_logistic,
    stable_threshold,
    tradeoff,
)
from eval.scoring import load_questions
from qa.confidence import BIAS, FEATURES, WEIGHTS
from qa.engine import QAConfig

DATA = Path(__file__).resolve().parent.parent / "eval" / "data"


def _separable(n: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.7).astype(float)
    signal = y * 1.0 + rng.normal(0, 0.3, n)  # separates the classes
    noise = rng.normal(0, 1, n)  # does not
    return np.column_stack([signal, noise]), y


def test_fit_finds_the_signal_and_ignores_noise():
    x, y = _separable()
    fit = fit_logistic(x, y)
    assert fit.weights[0] > 2.0
    assert abs(fit.weights[1]) < 0.5
    p = fit.probability(x)
    assert p[y == 1].mean() > 0.7 > 0.3 > p[y == 0].mean()


def test_threshold_respects_the_allowed_wrong_declines():
    x, y = _separable(seed=1)
    p = fit_logistic(x, y).probability(x)
    t, declined, wrong = best_threshold(p, y, max_wrong=0.05)
    assert wrong <= 0.05 and declined > 0.8
    ((_, d, w),) = tradeoff(p, y, [t])
    assert (d, w) == (declined, wrong)
    # a stricter limit never declines more
    assert best_threshold(p, y, max_wrong=0.01)[1] <= declined


def test_threshold_prefers_separation_to_the_edge_of_the_cap():
    # 10 unanswerable (y=0), 10 answerable; raising the threshold from 0.5 to 0.6 declines
    # one more unanswerable question but wrongly declines two more answerable ones
    p = np.array([0.1] * 6 + [0.45, 0.45, 0.55, 0.9] + [0.55, 0.55] + [0.9] * 8)
    y = np.array([0.0] * 10 + [1.0] * 10)
    t, declined, wrong = best_threshold(p, y, max_wrong=0.25)
    assert (declined, wrong) == (0.8, 0.0) and 0.45 < t <= 0.55


def test_stable_threshold_is_repeatable_and_near_the_single_pick():
    x, y = _separable(seed=1)
    p = fit_logistic(x, y).probability(x)
    t, declined, wrong = stable_threshold(p, y, max_wrong=0.05)
    assert (t, declined, wrong) == stable_threshold(p, y, max_wrong=0.05)
    ((_, d, w),) = tradeoff(p, y, [t])
    assert (d, w) == (declined, wrong)
    assert abs(t - best_threshold(p, y, max_wrong=0.05)[0]) <= 0.1


def test_stable_threshold_takes_the_middle_of_a_flat_stretch():
    # answerable questions spread evenly over 0.30-0.50, unanswerable ones evenly below 0.30
    # and over 0.30-0.50 too: every threshold in the stretch separates about equally well,
    # and the single pick sits wherever sampling noise puts it
    rng = np.random.default_rng(3)
    ans = np.concatenate([rng.uniform(0.3, 0.5, 20), rng.uniform(0.6, 0.95, 180)])
    una = np.concatenate([rng.uniform(0.05, 0.3, 60), rng.uniform(0.3, 0.5, 20)])
    p, y = np.concatenate([ans, una]), np.array([1.0] * 200 + [0.0] * 80)
    t, _, wrong = stable_threshold(p, y, max_wrong=0.2)
    assert 0.3 <= t <= 0.5 and wrong <= 0.2


def test_fit_needs_both_classes():
    x, y = _separable()
    with pytest.raises(ValueError, match="both"):
        fit_logistic(x, np.ones_like(y))


def test_collect_reads_the_engines_evidence(engine):
    items = [it for it in load_questions(DATA / "builtin_questions.jsonl")][:12]
    x, y, shown = collect(engine, items)
    assert x.shape == shown.shape == (len(y), len(FEATURES)) and len(y) >= 10
    assert set(np.unique(x[:, FEATURES.index("foreign_place")])) <= {0.0, 1.0}


def test_calibrate_command_writes_the_fit(tmp_path):
    from eval.__main__ import main

    rows = [json.loads(line) for line in
            (DATA / "builtin_questions.jsonl").read_text(encoding="utf-8").splitlines()]
    small = [r for r in rows if r["answers"]][:20] + [r for r in rows if not r["answers"]][:8]
    qfile = tmp_path / "q.jsonl"
    qfile.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in small),
                     encoding="utf-8")
    check = tmp_path / "check.jsonl"
    check.write_text(qfile.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "fit.json"
    assert main(["calibrate", "--questions", str(qfile), "--check", str(check),
                 "--json", str(out)]) == 0
    fit = json.loads(out.read_text(encoding="utf-8"))
    assert fit["features"] == list(FEATURES) and len(fit["weights"]) == len(FEATURES)
    assert 0.0 < fit["min_confidence"] < 1.0
    assert [s["role"] for s in fit["sets"]] == ["fit", "check"]


def test_shipped_weights_are_the_calibrated_ones():
    """qa/confidence.py holds what ``python -m eval calibrate`` fits on the shipped sets
    (rounded); a change to the evidence must come with a recalibration."""
    from eval.sets import FIT_ROLES, SETS, index_for
    from qa.engine import QAEngine

    xs, ys, shown = [], [], []
    for s in SETS:
        if s.role in FIT_ROLES:
            x, y, sx = collect(QAEngine.from_path(index_for(s)), load_questions(s.questions))
            xs.append(x)
            ys.append(y)
            shown.append(sx)
    x, y = np.vstack(xs), np.concatenate(ys)
    fit = fit_logistic(x, y)
    for name, w in zip(FEATURES, fit.weights, strict=True):
        assert w == pytest.approx(WEIGHTS[name], rel=0.1, abs=0.05), name
    assert fit.bias == pytest.approx(BIAS, rel=0.1, abs=0.05)
    t, _, wrong = stable_threshold(decision_probability(fit, x, np.vstack(shown)), y, 0.04)
    assert t == pytest.approx(QAConfig().min_confidence, abs=0.011)
    assert wrong <= 0.04
