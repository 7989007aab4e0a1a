"""Tests of eval.report (pure functions on hand-made records) and ``python -m eval report``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eval import __main__ as cli
from eval import report, scoring
from eval.scoring import EvalItem, Hit, RunRecord

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def item(qid: str, answers: list[str], type_: str = "fact", section: str = "A") -> EvalItem:
    return EvalItem(id=qid, question=f"question {qid}", answers=tuple(answers), type=type_,
                    section=section)


def rec(qid: str, texts: list[str], confidence: float = 0.0, answered: bool = True) -> dict:
    """A run-file record as eval.runner.run_record writes it."""
    return {
        "id": qid, "question": f"question {qid}", "answered": answered,
        "answer": texts[0] if (answered and texts) else "", "confidence": confidence,
        "hits": [{"rank": i, "text": t, "doc_id": "d"} for i, t in enumerate(texts, start=1)],
    }


def as_run_record(r: dict) -> RunRecord:
    return RunRecord(id=r["id"], question=r["question"], answered=r["answered"],
                     answer=r["answer"],
                     hits=tuple(Hit(rank=h["rank"], text=h["text"]) for h in r["hits"]))


# a1 found at rank 1, a2 at rank 3, a3 has no record; u3 has no hits (declined regardless)
ITEMS = [
    item("a1", ["甲"], "fact", "A"),
    item("a2", ["乙"], "numeric", "B"),
    item("a3", ["丙"], "numeric", "A"),
    item("u1", [], "unanswerable", "A"),
    item("u2", [], "unanswerable", "B"),
    item("u3", [], "unanswerable", "B"),
]
RECORDS = [
    rec("a1", ["有甲的段落", "其他"], confidence=0.9),
    rec("a2", ["x", "y", "含乙的段落"], confidence=0.25, answered=False),
    rec("u1", ["z"], confidence=0.5),
    rec("u2", ["w"], confidence=0.1, answered=False),
    rec("u3", [], confidence=0.0, answered=False),
]


# --------------------------------------------------------------------------- latency


def test_percentile_linear_interpolation():
    assert report.percentile([4, 1, 3, 2], 50) == 2.5
    assert report.percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert report.percentile([1, 2, 3, 4], 0) == 1
    assert report.percentile([1, 2, 3, 4], 100) == 4
    assert report.percentile([5.0], 95) == 5.0
    assert report.percentile([], 50) is None
    with pytest.raises(ValueError):
        report.percentile([1], 101)


def test_latency_stats_in_ms():
    stats = report.latency_stats([0.001, 0.002, 0.003])
    assert stats["n"] == 3
    assert stats["p50_ms"] == pytest.approx(2.0)
    assert stats["p95_ms"] == pytest.approx(2.9)
    assert stats["mean_ms"] == pytest.approx(2.0)
    assert report.latency_stats([])["p50_ms"] is None


def test_paired_ratio_is_median_of_per_question_ratios():
    assert report.paired_ratio([2, 3, 8], [1, 1, 2]) == 3.0
    assert report.paired_ratio([2, 5], [1, 0]) == 2.0  # zero denominator skipped
    assert report.paired_ratio([], []) is None
    with pytest.raises(ValueError):
        report.paired_ratio([1, 2], [1])


def test_interleaved_orders_rotate_and_balance_positions():
    orders = report.interleaved_orders(("a", "b", "c"), 4)
    assert orders == [("a", "b", "c"), ("b", "c", "a"), ("c", "a", "b"), ("a", "b", "c")]
    three = report.interleaved_orders(("a", "b", "c"), 3)
    for pos in range(3):
        assert sorted(o[pos] for o in three) == ["a", "b", "c"]
    assert report.interleaved_orders((), 2) == [(), ()]


# --------------------------------------------------------------------------- hit@k


def test_hitk_curve_from_records():
    # answerable ranks: a1 -> 1, a2 -> 3, a3 -> None (no record)
    assert report.first_relevant_ranks(RECORDS, ITEMS) == [1, 3, None]
    assert report.hitk_curve(RECORDS, ITEMS, max_k=4) == [1 / 3, 1 / 3, 2 / 3, 2 / 3]


def test_hitk_curve_accepts_run_records_mapping_and_score_result():
    runrecs = {r["id"]: as_run_record(r) for r in RECORDS}
    assert report.hitk_curve(runrecs, ITEMS, max_k=4) == [1 / 3, 1 / 3, 2 / 3, 2 / 3]
    result = scoring.score(ITEMS, runrecs, warn=None)
    curve = report.hitk_curve(result, ITEMS)
    assert len(curve) == 10
    assert curve[:4] == [1 / 3, 1 / 3, 2 / 3, 2 / 3]
    for k in scoring.K_VALUES:
        assert curve[k - 1] == result["overall"][f"hit@{k}"]


def test_hitk_curve_sorts_hits_by_rank():
    r = rec("a1", ["其他", "有甲"])
    r["hits"] = [{"rank": 2, "text": "其他"}, {"rank": 1, "text": "有甲"}]
    assert report.hitk_curve([r], [item("a1", ["甲"])], max_k=2) == [1.0, 1.0]


def test_hitk_curve_without_answerable_items():
    assert report.hitk_curve([], [item("u", [])], max_k=3) == [None, None, None]


# --------------------------------------------------------------------------- declining


def test_decline_tradeoff_exact_values():
    rows = report.decline_tradeoff(RECORDS, ITEMS, [0.0, 0.3, 0.5, 0.6, 1.0])
    assert rows == [
        # u3 (no hits) and a3 (no record) are declined whatever the threshold
        (0.0, 1 / 3, 1 / 3),
        (0.3, 2 / 3, 2 / 3),  # + u2 (0.1) and a2 (0.25)
        (0.5, 2 / 3, 2 / 3),  # u1 has exactly 0.5: answered (confidence >= threshold)
        (0.6, 1.0, 2 / 3),
        (1.0, 1.0, 1.0),  # a1 (0.9) too
    ]


def test_decline_tradeoff_matches_recorded_decisions_at_current_threshold():
    (t, declined, wrongly), = report.decline_tradeoff(RECORDS, ITEMS, [0.3])
    result = scoring.score(ITEMS, [as_run_record(r) for r in RECORDS], warn=None)
    assert declined == result["overall"]["declined_rate"]
    assert wrongly == result["overall"]["wrongly_declined_rate"]


def test_decline_tradeoff_empty_population_is_none():
    items = [item("a1", ["甲"])]
    assert report.decline_tradeoff([rec("a1", ["甲"], 0.4)], items, [0.2, 0.5]) == [
        (0.2, None, 0.0),
        (0.5, None, 1.0),
    ]


def test_default_thresholds_span_zero_to_one():
    assert report.CURVE_THRESHOLDS[0] == 0.0
    assert report.CURVE_THRESHOLDS[-1] == 1.0
    assert len(report.decline_tradeoff(RECORDS, ITEMS)) == 101


# --------------------------------------------------------------------------- breakdowns


def _group(n: int, hit1: float | None) -> dict:
    return {"n": n, "hit@1": hit1, "hit@5": hit1, "mrr@10": hit1, "answer_acc": hit1,
            "n_unanswerable": 0, "declined_rate": None}


def test_weakest_groups_lowest_hit1_across_types_and_sections():
    result = {
        "by_type": {"fact": _group(10, 0.9), "list": _group(4, 0.5), "year": _group(8, 0.5),
                    "unanswerable": _group(0, None)},
        "by_section": {"A": _group(6, 0.2), "B": _group(5, 1.0), "C": _group(3, 0.7)},
    }
    got = [(g["kind"], g["name"], g["hit@1"]) for g in report.weakest_groups(result, n=4)]
    # tie at 0.5: the larger group first; groups without answerable questions skipped
    assert got == [("section", "A", 0.2), ("type", "year", 0.5), ("type", "list", 0.5),
                   ("section", "C", 0.7)]
    assert len(report.weakest_groups(result)) == 5


# --------------------------------------------------------------------------- markdown


def test_md_cell_and_truncate():
    assert report.md_cell("a|b\nc  d") == "a\\|b c d"
    assert report.truncate("一二三四五", 4) == "一二三…"
    assert report.truncate("一二 三", 10) == "一二 三"
    assert report.truncate(None) == "(no hits)"
    assert report.fmt(None) == "n/a"
    assert report.fmt(0.12345) == "0.123"


def _results() -> dict[str, dict]:
    runrecs = [as_run_record(r) for r in RECORDS]
    return {name: scoring.score(ITEMS, runrecs, warn=None) for name in report.REPORT_RETRIEVERS}


def test_comparison_rows_exact():
    results = {"hybrid": _results()["hybrid"]}
    rows = report.comparison_rows(results, {"hybrid": [0.010, 0.020, 0.030]})
    # hit@1 1/3, hit@3..10 2/3, MRR (1 + 1/3)/3, nDCG (1 + 1/2)/3, answer acc 1/3 (a1 only)
    assert rows == [["hybrid", "0.333", "0.667", "0.667", "0.667", "0.444", "0.500",
                     "0.333", "0.667", "0.667", "20.0", "29.0"]]


def _inputs(results: dict[str, dict]) -> report.ReportInputs:
    lat = {name: [0.01, 0.02, 0.03] for name in results}
    return report.ReportInputs(
        name="t", items=ITEMS, results=results, latencies=lat, cpu_times=lat,
        tradeoff=report.decline_tradeoff(RECORDS, ITEMS, [0.0, 0.3, 1.0]),
        min_confidence=0.3, qa_config={"rrf_k": 60, "min_confidence": 0.3},
        settings=[("embedding model", "`m`"), ("git commit", "abc1234")],
        command="python -m eval report --name t", hitk_png="t-hitk.png",
        decline_png="t-decline.png", run_files=[".data/runs/t-hybrid.jsonl"],
    )


def test_render_markdown_sections():
    md = report.render_markdown(_inputs(_results()))
    for name in report.REPORT_RETRIEVERS:
        assert f"| {name} | 0.333 |" in md
    assert "| retriever | hit@1 | hit@3 | hit@5 | hit@10 | MRR@10 | nDCG@10 |" in md
    assert ("**Weakest 4 types or sections for hybrid (by hit@1):** type **numeric** "
            "(hit@1 0.000, n=2); section **B**") in md
    assert "section **B** (hit@1 0.000, n=1)" in md
    assert "| 0.30 ← current | 0.667 | 0.667 |" in md
    assert "match the run's actual decisions" in md
    assert "| 1 | a3 | retrieval_miss |" in md  # worst failure first
    assert "Latency ratio hybrid / naive:** p50 1.00×" in md
    assert "- git commit: abc1234" in md
    assert "| rrf_k | 60 |" in md
    assert "Regenerate with: `python -m eval report --name t`" in md
    assert "![hit@k per retriever](t-hitk.png)" in md
    assert "![not-found trade-off](t-decline.png)" in md


def test_render_markdown_without_hybrid_skips_hybrid_sections():
    results = {"bm25": _results()["bm25"]}
    md = report.render_markdown(_inputs(results))
    assert "| bm25 |" in md
    assert "Weakest" not in md
    assert "Latency ratio" not in md


# --------------------------------------------------------------------------- plots


def test_plots_are_valid_and_deterministic_pngs(tmp_path):
    curves = {"bm25": [0.5, 0.7, None], "hybrid": [0.6, 0.8, 0.9]}
    tradeoff = report.decline_tradeoff(RECORDS, ITEMS)
    paths = []
    for run in ("one", "two"):
        h, d = tmp_path / run / "hitk.png", tmp_path / run / "decline.png"
        report.plot_hitk(curves, h, "hit@k")
        report.plot_decline(tradeoff, 0.3, d, "trade-off")
        paths.append((h, d))
    for h, d in paths:
        assert h.read_bytes().startswith(PNG_MAGIC)
        assert d.read_bytes().startswith(PNG_MAGIC)
    assert paths[0][0].read_bytes() == paths[1][0].read_bytes()
    assert paths[0][1].read_bytes() == paths[1][1].read_bytes()
    assert b"Software" not in paths[0][0].read_bytes()


# --------------------------------------------------------------------------- CLI


def test_report_bad_input_exits_2(tmp_path, capsys):
    assert cli.main(["report", "--questions", str(tmp_path / "missing.jsonl"),
                     "--out-dir", str(tmp_path)]) == 2
    assert "error:" in capsys.readouterr().err
    assert cli.main(["report", "--name", "../x", "--out-dir", str(tmp_path)]) == 2
    assert "--name" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    assert cli.main(["report", "--questions", str(empty), "--out-dir", str(tmp_path)]) == 2
    assert not list(tmp_path.glob("*.md"))


@pytest.mark.slow
def test_report_end_to_end(tmp_path):
    rows = [json.loads(line) for line in
            (ROOT / "eval" / "data" / "builtin_questions.jsonl").read_text("utf-8").splitlines()
            if line.strip()]
    subset = [r for r in rows if r["answers"]][:4] + [r for r in rows if not r["answers"]][:2]
    questions = tmp_path / "q6.jsonl"
    questions.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in subset),
                         encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "eval", "report", "--questions", str(questions),
         "--out-dir", str(tmp_path), "--name", "t", "--runs-dir", str(tmp_path / "runs")],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stderr
    md = (tmp_path / "t.md").read_text(encoding="utf-8")
    assert "| retriever | hit@1 | hit@3 | hit@5 | hit@10 | MRR@10 | nDCG@10 |" in md
    for name in ("bm25", "dense", "naive", "hybrid"):
        assert f"\n| {name} | " in md
        assert (tmp_path / "runs" / f"t-{name}.jsonl").is_file()
        assert (tmp_path / "runs" / f"t-{name}.score.json").is_file()
    assert "6 questions (4 answerable, 2 unanswerable)" in md
    assert "← current" in md
    for png in ("t-hitk.png", "t-decline.png"):
        data = (tmp_path / png).read_bytes()
        assert data.startswith(PNG_MAGIC) and data.rstrip().endswith(b"IEND\xaeB`\x82")
        from matplotlib.image import imread

        assert imread(tmp_path / png).shape[0] > 100
    assert "wrote" in done.stdout and "t.md" in done.stdout
