"""Unit tests for eval.metrics / eval.scoring and the ``python -m eval score`` CLI."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eval import __main__ as cli
from eval import metrics, scoring
from eval.scoring import EvalItem, Hit, RunRecord

ROOT = Path(__file__).resolve().parents[1]

LOG2_3 = math.log2(3)


# --------------------------------------------------------------------------- helpers


def item(qid, answers, type_="fact", section="A", gold_doc_ids=(), question=None):
    return EvalItem(
        id=qid,
        question=question or f"question {qid}",
        answers=tuple(answers),
        type=type_,
        section=section,
        gold_doc_ids=tuple(gold_doc_ids),
    )


def record(qid, texts, answered=True, answer="", doc_ids=None):
    doc_ids = doc_ids or [f"doc{i}" for i in range(len(texts))]
    hits = tuple(
        Hit(rank=i, text=t, doc_id=d)
        for i, (t, d) in enumerate(zip(texts, doc_ids, strict=True), start=1)
    )
    return RunRecord(id=qid, question="", answered=answered, answer=answer, hits=hits)


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


NOISE = "政府工作报告无关段落"


@pytest.fixture
def scenario():
    """Seven questions with hand-computed outcomes.

    q1 numeric/A: relevant at rank 1, correct answer
    q2 fact/A:    relevant at rank 3, wrong answer
    q3 numeric/B: no relevant hit, declined (wrongly)
    q4 unans/C:   declined (correct)
    q5 unans/C:   answered (wrong)
    q6 fact/B:    relevant at rank 2, correct answer
    q7 fact/B:    relevant at rank 1, wrong answer
    """
    items = [
        item("q1", ["5%"], "numeric", "A", gold_doc_ids=["d2024"]),
        item("q2", ["城镇新增就业1200万人"], "fact", "A", gold_doc_ids=["d2023"]),
        item("q3", ["3%"], "numeric", "B"),
        item("q4", [], "unanswerable", "C"),
        item("q5", [], "unanswerable", "C"),
        item("q6", ["高质量发展"], "fact", "B"),
        item("q7", ["粮食产量"], "fact", "B"),
    ]
    run = {
        "q1": record(
            "q1", ["经济增长 5 %左右", NOISE], answer="增长5%", doc_ids=["d2024", "d2023"]
        ),
        "q2": record(
            "q2",
            [NOISE, NOISE, "城镇新增就业 1200 万人以上"],
            answer="不清楚",
            doc_ids=["x", "d2023", "y"],
        ),
        "q3": record("q3", [NOISE, NOISE, NOISE], answered=False, answer="未找到"),
        "q4": record("q4", [NOISE], answered=False, answer="未找到"),
        "q5": record("q5", [NOISE], answered=True, answer="胡说八道"),
        "q6": record("q6", [NOISE, "推动高质量发展"], answer="高质量发展"),
        "q7": record("q7", ["粮食产量1.3万亿斤", NOISE], answer="不知道"),
    }
    return items, run


# --------------------------------------------------------------------------- metrics


def test_normalise_and_relevance_ignore_whitespace():
    assert metrics.normalise(" 5.2 %\n左右\t") == "5.2%左右"
    assert metrics.is_relevant("增长5.2%左右", ["5.2 %"])  # gold has a space, text not
    assert metrics.is_relevant("国内生产\n总值", ["国内生产总值"])  # text has a break
    assert not metrics.is_relevant("增长5.3%", ["5.2%"])
    assert not metrics.is_relevant("anything", ["", "  "])  # empty gold never matches
    assert not metrics.is_relevant("anything", [])


def test_first_relevant_rank():
    assert metrics.first_relevant_rank(["a", "b 5%", "5%"], ["5 %"]) == 2
    assert metrics.first_relevant_rank(["5%"], ["5%"]) == 1
    assert metrics.first_relevant_rank(["a", "b"], ["5%"]) is None
    assert metrics.first_relevant_rank([], ["5%"]) is None


def test_hit_at_k_and_mrr_with_rank_1_3_none():
    ranks = [1, 3, None]
    assert metrics.hit_at_k(ranks, 1) == pytest.approx(1 / 3)
    assert metrics.hit_at_k(ranks, 3) == pytest.approx(2 / 3)
    assert metrics.hit_at_k(ranks, 5) == pytest.approx(2 / 3)
    assert metrics.hit_at_k([12], 10) == 0.0  # beyond the cut-off
    assert metrics.mrr_at_k(ranks, 10) == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert metrics.mrr_at_k([3], 2) == 0.0
    assert metrics.reciprocal_rank(4, 10) == 0.25
    assert metrics.hit_at_k([], 1) == 0.0  # no division by zero
    assert metrics.mrr_at_k([], 10) == 0.0
    with pytest.raises(ValueError):
        metrics.hit_at_k([1], 0)


def test_ndcg_cases():
    # two relevant hits, ranked first -> ideal
    assert metrics.ndcg_at_k([True, True, False], 10) == pytest.approx(1.0)
    # two relevant hits at ranks 1 and 3: DCG = 1 + 1/2; IDCG = 1 + 1/log2(3)
    assert metrics.ndcg_at_k([True, False, True], 10) == pytest.approx(1.5 / (1 + 1 / LOG2_3))
    # single relevant at rank 2
    assert metrics.ndcg_at_k([False, True], 10) == pytest.approx(1 / LOG2_3)
    # none relevant / empty
    assert metrics.ndcg_at_k([False, False], 10) == 0.0
    assert metrics.ndcg_at_k([], 10) == 0.0
    # relevant only beyond k counts as not found within k
    assert metrics.ndcg_at_k([False] * 10 + [True], 10) == 0.0
    assert metrics.dcg_at_k([True, False, True], 2) == pytest.approx(1.0)


def test_answer_correct_and_rate():
    assert metrics.answer_correct(True, "约 5%", ["5%"])
    assert not metrics.answer_correct(False, "5%", ["5%"])  # declined never counts
    assert not metrics.answer_correct(True, None, ["5%"])
    assert metrics.rate(1, 4) == 0.25
    assert metrics.rate(0, 0) is None
    assert metrics.mean_or_none([]) is None


# --------------------------------------------------------------------------- scoring


def test_score_overall(scenario):
    items, run = scenario
    result = scoring.score(items, run, warn=None)
    o = result["overall"]
    assert (o["n_questions"], o["n_answerable"], o["n_unanswerable"]) == (7, 5, 2)
    assert o["n_missing_from_run"] == 0
    # answerable ranks: q1=1, q2=3, q3=None, q6=2, q7=1
    assert o["hit@1"] == pytest.approx(2 / 5)
    assert o["hit@3"] == pytest.approx(4 / 5)
    assert o["hit@5"] == pytest.approx(4 / 5)
    assert o["hit@10"] == pytest.approx(4 / 5)
    assert o["mrr@10"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 2 + 1) / 5)
    assert o["ndcg@10"] == pytest.approx((1 + 0.5 + 0 + 1 / LOG2_3 + 1) / 5)
    assert o["answer_acc"] == pytest.approx(2 / 5)
    assert o["declined_rate"] == pytest.approx(1 / 2)
    assert o["wrongly_declined_rate"] == pytest.approx(1 / 5)
    json.dumps(result)  # JSON-serialisable


def test_unanswerable_accounting(scenario):
    items, run = scenario
    u = scoring.score(items, run, warn=None)["unanswerable"]
    assert u == {
        "n_unanswerable": 2,
        "declined": 1,
        "declined_rate": 0.5,
        "n_answerable": 5,
        "wrongly_declined": 1,
        "wrongly_declined_rate": 0.2,
    }


def test_breakdowns(scenario):
    items, run = scenario
    result = scoring.score(items, run, warn=None)
    by_type = result["by_type"]
    assert list(by_type) == ["fact", "numeric", "unanswerable"]
    assert by_type["numeric"] == {
        "n": 2,
        "hit@1": 0.5,
        "hit@5": 0.5,
        "mrr@10": 0.5,
        "answer_acc": 0.5,
        "n_unanswerable": 0,
        "declined_rate": None,
    }
    fact = by_type["fact"]
    assert fact["n"] == 3
    assert fact["hit@1"] == pytest.approx(1 / 3)
    assert fact["hit@5"] == 1.0
    assert fact["mrr@10"] == pytest.approx((1 / 3 + 1 / 2 + 1) / 3)
    assert fact["answer_acc"] == pytest.approx(1 / 3)
    unans = by_type["unanswerable"]
    assert unans["n"] == 0 and unans["hit@1"] is None and unans["answer_acc"] is None
    assert unans["n_unanswerable"] == 2 and unans["declined_rate"] == 0.5
    by_section = result["by_section"]
    assert by_section["A"]["n"] == 2 and by_section["A"]["hit@1"] == 0.5
    assert by_section["B"]["n"] == 3 and by_section["B"]["hit@5"] == pytest.approx(2 / 3)
    assert by_section["C"]["declined_rate"] == 0.5


def test_doc_level_hit_at_k(scenario):
    items, run = scenario
    d = scoring.score(items, run, warn=None)["doc_level"]
    # q1 gold doc at rank 1, q2 gold doc at rank 2; other questions have no gold_doc_ids
    assert d == {"n": 2, "hit@1": 0.5, "hit@3": 1.0, "hit@5": 1.0, "hit@10": 1.0}


def test_failures_worst_first(scenario):
    items, run = scenario
    failures = scoring.score(items, run, warn=None)["failures"]
    assert [(f["id"], f["kind"]) for f in failures] == [
        ("q3", "retrieval_miss"),
        ("q2", "low_rank"),  # rank 3 is worse than rank 2
        ("q6", "low_rank"),
        ("q7", "wrong_answer"),
        ("q5", "answered_unanswerable"),
    ]
    q2 = failures[1]
    assert q2["first_relevant_rank"] == 3
    assert q2["gold"] == ["城镇新增就业1200万人"]
    assert q2["rank1_text"] == NOISE
    assert q2["answer"] == "不清楚"
    assert q2["question"] == "question q2"


def test_rank1_text_truncated():
    items = [item("q1", ["不存在"])]
    run = {"q1": record("q1", ["长" * 200], answer="x")}
    f = scoring.score(items, run, warn=None)["failures"][0]
    assert len(f["rank1_text"]) == scoring.PASSAGE_PREVIEW_CHARS
    assert f["rank1_text"].endswith("…")


def test_empty_run_all_zero(scenario):
    items, _ = scenario
    warnings: list[str] = []
    result = scoring.score(items, {}, warn=warnings.append)
    o = result["overall"]
    for key in ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10", "answer_acc"):
        assert o[key] == 0.0, key
    assert o["wrongly_declined_rate"] == 1.0  # missing counts as not answered
    assert o["n_missing_from_run"] == 7
    assert result["doc_level"]["hit@1"] == 0.0
    assert len(warnings) == 1 and "7 question id(s) missing" in warnings[0]
    # a run whose records have no hits also scores zero
    empty_hits = {it.id: record(it.id, [], answered=False) for it in items}
    assert scoring.score(items, empty_hits, warn=None)["overall"]["hit@10"] == 0.0


def test_missing_question_id_warns_on_stderr(scenario, capsys):
    items, run = scenario
    del run["q1"]
    result = scoring.score(items, run)
    err = capsys.readouterr().err
    assert "warning:" in err and "q1" in err
    assert result["warnings"] and "q1" in result["warnings"][0]
    assert result["overall"]["hit@1"] == pytest.approx(1 / 5)
    q1 = next(f for f in result["failures"] if f["id"] == "q1")
    assert q1["kind"] == "retrieval_miss" and q1["missing_from_run"] is True
    assert q1["answered"] is False and q1["rank1_text"] is None


def test_no_answerable_questions_reports_none():
    items = [item("u1", [], "unanswerable")]
    run = {"u1": record("u1", [NOISE], answered=False)}
    result = scoring.score(items, run, warn=None)
    o = result["overall"]
    assert o["hit@1"] is None and o["mrr@10"] is None and o["ndcg@10"] is None
    assert o["answer_acc"] is None and o["wrongly_declined_rate"] is None
    assert o["declined_rate"] == 1.0
    assert result["doc_level"]["hit@1"] is None
    report = scoring.format_report(result)
    assert "n/a" in report
    assert scoring.check_thresholds(result, {"hit@1": 0.5}) == ["hit@1 = n/a (required >= 0.5)"]
    # and nothing at all
    empty = scoring.score([], {}, warn=None)
    assert empty["overall"]["n_questions"] == 0
    scoring.format_report(empty)


def test_duplicate_ranks_sorted_by_rank_then_list_order(tmp_path):
    questions = write_jsonl(
        tmp_path / "q.jsonl",
        [{"id": "q1", "question": "?", "answers": ["5%"], "type": "numeric", "section": "A"}],
    )
    hits = [
        {"rank": 2, "doc_id": "d", "chunk_id": "c3", "text": "rank two"},
        {"rank": 1, "doc_id": "d", "chunk_id": "c1", "text": "无关"},
        {"rank": 1, "doc_id": "d", "chunk_id": "c2", "text": "增长5%"},
    ]
    run_path = write_jsonl(
        tmp_path / "run.jsonl",
        [{"id": "q1", "question": "?", "answered": True, "answer": "5%", "hits": hits}],
    )
    run = scoring.load_run(run_path)
    assert [h.chunk_id for h in run["q1"].hits] == ["c1", "c2", "c3"]
    result = scoring.score(scoring.load_questions(questions), run, warn=None)
    assert result["per_question"][0]["first_relevant_rank"] == 2
    assert result["overall"]["mrr@10"] == 0.5


def test_load_questions_errors_name_file_and_line(tmp_path):
    good = {"id": "q1", "question": "?", "answers": ["a"], "type": "fact", "section": "A"}
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text(json.dumps(good) + "\n{not json\n", "utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:2: invalid JSON"):
        scoring.load_questions(bad_json)

    missing = write_jsonl(
        tmp_path / "missing.jsonl",
        [good, {"id": "q2", "question": "?", "type": "fact", "section": "A"}],
    )
    with pytest.raises(ValueError, match=r"missing\.jsonl:2: missing required field 'answers'"):
        scoring.load_questions(missing)

    dup = write_jsonl(tmp_path / "dup.jsonl", [good, good])
    with pytest.raises(ValueError, match="duplicate question id"):
        scoring.load_questions(dup)

    extra = write_jsonl(tmp_path / "extra.jsonl", [{**good, "note": "ignored"}])
    (loaded,) = scoring.load_questions(extra)
    assert loaded == EvalItem("q1", "?", ("a",), "fact", "A", ())


def test_load_run_errors(tmp_path):
    bad = write_jsonl(tmp_path / "run.jsonl", [{"id": "q1", "answered": "yes", "hits": []}])
    with pytest.raises(ValueError, match=r"run\.jsonl:1: field 'answered' must be bool"):
        scoring.load_run(bad)
    no_rank = write_jsonl(
        tmp_path / "run2.jsonl", [{"id": "q1", "answered": False, "hits": [{"text": "x"}]}]
    )
    with pytest.raises(ValueError, match="missing required field 'rank'"):
        scoring.load_run(no_rank)


def test_check_thresholds(scenario):
    items, run = scenario
    result = scoring.score(items, run, warn=None)
    assert scoring.check_thresholds(result, {"hit@1": 0.4, "hit@5": 0.8}) == []  # equal passes
    assert scoring.check_thresholds(result, {"hit@1": 0.5, "answer_acc": 0.3}) == [
        "hit@1 = 0.4000 < min 0.5"
    ]
    assert scoring.check_thresholds(result, maxs={"wrongly_declined_rate": 0.1}) == [
        "wrongly_declined_rate = 0.2000 > max 0.1"
    ]
    # informal aliases: "declined" is a minimum, "wrongly_declined_max" a maximum
    assert scoring.check_thresholds(result, {"declined": 0.5, "wrongly_declined_max": 0.2}) == []
    assert scoring.check_thresholds(result, {"wrongly_declined_max": 0.05}) == [
        "wrongly_declined_rate = 0.2000 > max 0.05"
    ]
    with pytest.raises(ValueError, match="valid names: hit@1"):
        scoring.check_thresholds(result, {"recall": 0.5})


def test_format_report_contents(scenario):
    items, run = scenario
    report = scoring.format_report(scoring.score(items, run, warn=None))
    for needle in ("hit@1", "0.4000", "By type", "By section", "declined correctly: 1/2"):
        assert needle in report
    assert report.index("q3") < report.index("q2") < report.index("q6") < report.index("q5")
    short = scoring.format_report(scoring.score(items, run, warn=None), max_failures=1)
    assert "4 more" in short


# --------------------------------------------------------------------------- CLI


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "eval", "score", *args],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


@pytest.fixture
def cli_files(tmp_path):
    questions = write_jsonl(
        tmp_path / "questions.jsonl",
        [
            {
                "id": "q1",
                "question": "增速?",
                "answers": ["5%"],
                "type": "numeric",
                "section": "经济",
                "gold_doc_ids": ["d1"],
            },
            {
                "id": "q2",
                "question": "就业?",
                "answers": ["1200万"],
                "type": "fact",
                "section": "就业",
            },
            {
                "id": "q3",
                "question": "火星?",
                "answers": [],
                "type": "unanswerable",
                "section": "其他",
            },
        ],
    )
    hit = {"doc_id": "d1", "chunk_id": "c", "section": "s", "start": 0, "end": 9, "score": 1.0}
    run = write_jsonl(
        tmp_path / "run.jsonl",
        [
            {
                "id": "q1",
                "question": "增速?",
                "answered": True,
                "answer": "5%",
                "hits": [{**hit, "rank": 1, "text": "增长 5%"}],
            },
            {
                "id": "q2",
                "question": "就业?",
                "answered": True,
                "answer": "1200万",
                "hits": [{**hit, "rank": 1, "text": "无关"}, {**hit, "rank": 2, "text": "1200 万"}],
            },
            {"id": "q3", "question": "火星?", "answered": False, "answer": "未找到", "hits": []},
        ],
    )
    return tmp_path, questions, run


def test_cli_exit_0_when_thresholds_met(cli_files):
    tmp, questions, run = cli_files
    out = tmp / "out" / "result.json"
    proc = run_cli(
        "--questions",
        str(questions),
        "--run",
        str(run),
        "--json",
        str(out),
        "--min",
        "hit@1=0.5",
        "--min",
        "hit@5=1",
        "--max",
        "wrongly_declined_rate=0",
    )
    assert proc.returncode == 0, proc.stderr
    assert "Evaluation report" in proc.stdout
    result = json.loads(out.read_text("utf-8"))
    assert set(result) >= {
        "overall",
        "by_type",
        "by_section",
        "unanswerable",
        "doc_level",
        "failures",
    }
    assert result["overall"]["hit@1"] == 0.5
    assert result["overall"]["mrr@10"] == 0.75
    assert result["doc_level"]["hit@1"] == 1.0


def test_cli_exit_1_when_min_fails(cli_files):
    _, questions, run = cli_files
    proc = run_cli("--questions", str(questions), "--run", str(run), "--min", "hit@1=0.8")
    assert proc.returncode == 1
    assert "hit@1 = 0.5000 < min 0.8" in proc.stderr


def test_cli_exit_2_for_bad_input(cli_files, tmp_path):
    _, questions, run = cli_files
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q1", "question": "?"\n', "utf-8")
    proc = run_cli("--questions", str(bad), "--run", str(run))
    assert proc.returncode == 2
    assert "bad.jsonl:1" in proc.stderr and "Traceback" not in proc.stderr

    proc = run_cli("--questions", str(questions), "--run", str(tmp_path / "nope.jsonl"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr

    proc = run_cli("--questions", str(questions), "--run", str(run), "--min", "recall=0.5")
    assert proc.returncode == 2 and "valid names" in proc.stderr

    proc = run_cli("--questions", str(questions), "--run", str(run), "--min", "hit@1")
    assert proc.returncode == 2 and "NAME=VALUE" in proc.stderr


def test_parser_skips_only_absent_optional_modules(monkeypatch):
    assert "score" in cli.build_parser().format_help()

    def fake_import(name):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(cli.importlib, "import_module", fake_import)
    cli.build_parser()  # every optional module "absent": skipped silently

    def broken_import(name):
        raise ModuleNotFoundError("No module named 'yaml'", name="yaml")

    monkeypatch.setattr(cli.importlib, "import_module", broken_import)
    with pytest.raises(ModuleNotFoundError):
        cli.build_parser()  # the module exists but its own dependency is missing
