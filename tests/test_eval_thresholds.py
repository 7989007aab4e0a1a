"""Regression gate: the full pipeline on the built-in question set, through the real CLI.

Thresholds sit at the level reached (see eval/reports/builtin.md), so a change that makes
retrieval or answers worse fails CI. This is not a timing test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO / "eval" / "data" / "builtin_questions.jsonl"
MINIMA = {"hit@1": 0.89, "hit@5": 0.96, "mrr@10": 0.92, "answer_acc": 0.85,
          "declined_rate": 0.40}
MAXIMA = {"wrongly_declined_rate": 0.05}


def test_builtin_eval_meets_thresholds(tmp_path, builtin_index_dir):
    run = tmp_path / "run.jsonl"
    out = tmp_path / "score.json"
    subprocess.run([sys.executable, "-m", "eval", "run", "--questions", str(QUESTIONS),
                    "--index", str(builtin_index_dir), "--out", str(run)],
                   cwd=REPO, check=True, capture_output=True, text=True, timeout=600)
    args = [sys.executable, "-m", "eval", "score", "--questions", str(QUESTIONS),
            "--run", str(run), "--json", str(out), "--max-failures", "0"]
    args += [x for k, v in MINIMA.items() for x in ("--min", f"{k}={v}")]
    args += [x for k, v in MAXIMA.items() for x in ("--max", f"{k}={v}")]
    r = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    overall = json.loads(out.read_text(encoding="utf-8"))["overall"]
    assert r.returncode == 0, f"thresholds missed: {r.stderr}\n{overall}"
    assert overall["n_questions"] >= 150
