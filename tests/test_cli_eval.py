"""End to end through the command line on a small custom corpus (any corpus works):
``python -m index build`` → ``python -m eval run`` → ``python -m eval score``, and
``python -m qa feedback export``. Real subprocesses, real model, real index."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]

DOCS = [
    {
        "id": "qingshan-2024",
        "title": "青山市2024年政府工作报告",
        "year": 2024,
        "text": (
            "一、2023年工作回顾\n"
            "过去一年，青山市地区生产总值增长5.8%，粮食产量达到52万吨，创历史新高。"
            "新建高标准农田12万亩，农村居民人均可支配收入增长7.1%。\n"
            "二、2024年主要目标\n"
            "今年全市经济社会发展的主要预期目标是：地区生产总值增长6%左右，"
            "城镇新增就业3.5万人以上，粮食产量稳定在52万吨以上。"
        ),
    },
    {
        "id": "lanhu-2024",
        "title": "蓝湖县2024年政府工作报告",
        "year": 2024,
        "text": (
            "一、过去一年的工作\n"
            "蓝湖县大力发展全域旅游，全年接待游客860万人次，旅游综合收入突破95亿元。"
            "建成湖滨绿道46公里，新增A级景区3家。\n"
            "二、今年的重点工作\n"
            "今年要打造湖区生态旅游示范带，力争接待游客突破1000万人次，"
            "新建星级民宿120家，持续改善湖泊水质。"
        ),
    },
    {
        "id": "songyuan-2023",
        "title": "松原区2023年政府工作报告",
        "year": 2023,
        "text": (
            "一、教育事业\n"
            "松原区新建和改扩建中小学校8所，新增学位9600个，"
            "全区义务教育巩固率达到99.2%。\n"
            "二、医疗卫生\n"
            "新建社区卫生服务中心5个，每千人口执业医师数达到3.4人，"
            "家庭医生签约服务覆盖率提高到78%。"
        ),
    },
]
IDS = [d["id"] for d in DOCS]

QUESTIONS = [
    {"id": "c1", "question": "青山市去年粮食产量是多少", "answers": ["粮食产量达到52万吨"],
     "type": "numeric", "section": "回顾", "gold_doc_ids": ["qingshan-2024"]},
    {"id": "c2", "question": "蓝湖县全年接待游客多少人次", "answers": ["全年接待游客860万人次"],
     "type": "numeric", "section": "回顾", "gold_doc_ids": ["lanhu-2024"]},
    {"id": "c3", "question": "松原区新增了多少学位", "answers": ["新增学位9600个"],
     "type": "numeric", "section": "教育", "gold_doc_ids": ["songyuan-2023"]},
    {"id": "c4", "question": "家庭医生签约服务覆盖率",
     "answers": ["家庭医生签约服务覆盖率提高到78%"],
     "type": "paraphrase", "section": "医疗", "gold_doc_ids": ["songyuan-2023"]},
]
HIT_FIELDS = {"rank", "doc_id", "chunk_id", "section", "start", "end", "text", "score"}


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600
            ) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """Corpus → index → run file, once for the module."""
    tmp = tmp_path_factory.mktemp("cli")
    corpus = write_jsonl(tmp / "corpus.jsonl", DOCS)
    questions = write_jsonl(tmp / "questions.jsonl", QUESTIONS)
    index_dir = tmp / "index"
    run = tmp / "run.jsonl"
    build = ok(run_cli("index", "build", "--corpus", str(corpus), "--out", str(index_dir)))
    answer = ok(run_cli("eval", "run", "--index", str(index_dir), "--questions", str(questions),
                        "--out", str(run)))
    return {"tmp": tmp, "corpus": corpus, "questions": questions, "index": index_dir,
            "run": run, "build": build, "answer": answer}


def test_index_build_reports_the_corpus(pipeline):
    out = pipeline["build"].stdout
    assert "3 document(s)" in out, out
    assert pipeline["index"].is_dir() and any(pipeline["index"].iterdir())


def test_run_file_lines(pipeline):
    assert "wrote 4 answers" in pipeline["answer"].stdout, pipeline["answer"].stdout
    lines = pipeline["run"].read_text(encoding="utf-8").splitlines()
    records = [json.loads(x) for x in lines if x.strip()]
    assert [r["id"] for r in records] == [q["id"] for q in QUESTIONS]
    texts = {d["id"]: d["text"] for d in DOCS}
    for rec, q in zip(records, QUESTIONS, strict=True):
        assert rec["question"] == q["question"]
        assert isinstance(rec["answered"], bool) and isinstance(rec["answer"], str)
        assert rec["hits"], rec["id"]
        assert [h["rank"] for h in rec["hits"]] == list(range(1, len(rec["hits"]) + 1))
        for h in rec["hits"]:
            assert HIT_FIELDS <= set(h), set(h)
            assert h["doc_id"] in IDS  # the ids given in the corpus file, not generated ones
            assert h["chunk_id"] and isinstance(h["score"], float)
            assert isinstance(h["section"], str)
            # offsets point into the document text as the corpus gave it
            assert h["text"] == texts[h["doc_id"]][h["start"]:h["end"]], (rec["id"], h)
        if rec["answered"]:
            assert rec["answer"] in rec["hits"][0]["text"]
    by_id = {r["id"]: r for r in records}
    # the right report comes first for each question
    for q in QUESTIONS:
        assert by_id[q["id"]]["hits"][0]["doc_id"] == q["gold_doc_ids"][0], by_id[q["id"]]


def test_score_passes_threshold_and_writes_doc_level(pipeline):
    out = pipeline["tmp"] / "score.json"
    proc = ok(run_cli("eval", "score", "--questions", str(pipeline["questions"]),
                      "--run", str(pipeline["run"]), "--json", str(out),
                      "--min", "hit@5=0.5"))
    assert "threshold" in proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["overall"]["n_questions"] == 4
    assert result["overall"]["hit@5"] >= 0.5
    doc = result["doc_level"]
    assert doc["n"] == 4
    for k in (1, 3, 5, 10):
        assert f"hit@{k}" in doc and 0.0 <= doc[f"hit@{k}"] <= 1.0
    assert doc["hit@1"] == 1.0  # each question's own report is ranked first
    assert [q["doc_rank"] for q in result["per_question"]] == [1, 1, 1, 1]


def test_score_fails_an_impossible_threshold(pipeline):
    proc = run_cli("eval", "score", "--questions", str(pipeline["questions"]),
                   "--run", str(pipeline["run"]), "--min", "hit@1=1.01")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "THRESHOLDS FAILED" in proc.stderr and "hit@1" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_score_rejects_an_unknown_metric(pipeline):
    proc = run_cli("eval", "score", "--questions", str(pipeline["questions"]),
                   "--run", str(pipeline["run"]), "--min", "recall@7=0.5")
    assert proc.returncode == 2 and "unknown metric" in proc.stderr


def test_ask_over_the_custom_index(pipeline):
    proc = ok(run_cli("qa", "ask", "--index", str(pipeline["index"]), "--json",
                      "蓝湖县全年接待游客多少人次"))
    ans = json.loads(proc.stdout)
    assert ans["hits"][0]["doc_id"] == "lanhu-2024"
    if ans["answered"]:
        assert "860万人次" in ans["answer"]


def test_feedback_export(tmp_path):
    from qa.feedback import CSV_COLUMNS, FeedbackStore

    db = tmp_path / "fb" / "feedback.sqlite3"
    citation = {"doc_id": "qingshan-2024", "title": "青山市2024年政府工作报告",
                "section": "一、2023年工作回顾", "start": 10, "end": 48,
                "chunk_id": "qingshan-2024:0001",
                "text": "过去一年，青山市地区生产总值增长5.8%，粮食产量达到52万吨，创历史新高。"}
    with FeedbackStore(db) as store:
        store.add("青山市去年粮食产量是多少", "粮食产量达到52万吨", citation, "confirmed")
        store.add("青山市今年GDP目标", "地区生产总值增长5.8%", citation, "wrong",
                  comment="这是去年的数，应为6%左右")
    out = tmp_path / "flags.csv"
    proc = ok(run_cli("qa", "feedback", "export", "--out", str(out),
                      env={"GWR_QA_FEEDBACK_DB": str(db)}))
    assert "wrote 2 flags" in proc.stdout and str(db) in proc.stdout
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["verdict"] for r in rows] == ["confirmed", "wrong"]
    assert rows[1]["comment"] == "这是去年的数，应为6%左右"
    assert rows[0]["question"] == "青山市去年粮食产量是多少"
    assert {r["doc_id"] for r in rows} == {"qingshan-2024"}
    assert rows[0]["start"] == "10" and rows[0]["end"] == "48"


def test_feedback_export_without_a_database(tmp_path):
    proc = run_cli("qa", "feedback", "export", "--out", str(tmp_path / "x.csv"),
                   env={"GWR_QA_FEEDBACK_DB": str(tmp_path / "missing.sqlite3")})
    assert proc.returncode == 1 and "no feedback database" in proc.stderr
    assert not (tmp_path / "x.csv").exists()


def _sets_row(out: str, name: str) -> list[str]:
    return next(line.split() for line in out.splitlines() if line.startswith(name + " "))


def test_sets_table_under_a_changed_setting():
    """``eval sets`` prints a set's figures and runs them under a changed setting: a
    threshold no answer reaches declines every question but moves no passage."""
    shipped = ok(run_cli("eval", "sets", "--set", "national2025")).stdout
    strict = ok(run_cli("eval", "sets", "--set", "national2025",
                        "--config", "min_confidence=0.999")).stdout
    assert "settings changed: min_confidence=0.999" in strict
    name, role, n, h1, h5, mrr, acc, wrong, declined = _sets_row(shipped, "national2025")
    s = _sets_row(strict, "national2025")
    assert (role, n) == ("fit", "70") and float(h1) > 0.9 and float(acc) > 0.8
    assert s[3:6] == [h1, h5, mrr]  # the same passages, in the same order
    assert float(s[6]) == 0.0 and float(s[7]) == 1.0  # nothing answered
    done, total = s[8].split("/")
    assert done == total and int(declined.split("/")[0]) < int(total)


@pytest.mark.parametrize("setting, message", [
    ("w_sentenc=1", "not a setting"), ("k=abc", "k takes int values"),
    ("w_sentence", "not a setting"),
])
def test_sets_rejects_a_bad_setting(setting, message):
    proc = run_cli("eval", "sets", "--set", "builtin", "--config", setting)
    assert proc.returncode == 2 and message in proc.stderr
    assert "Traceback" not in proc.stderr and "hit@1" not in proc.stdout


def test_sets_rejects_an_unknown_set():
    proc = run_cli("eval", "sets", "--set", "nosuchset")
    assert proc.returncode == 2 and "unknown question set" in proc.stderr
