"""Load test against the real app: 20 gradio_client clients ask 1,000 questions in total.

Full size: at roughly 10-15 questions per second on this 2-core machine the run takes about
75-120 s including the app start; it is bounded by a 10-minute timeout and stops by itself.
"""

from __future__ import annotations

import pytest

from eval.load import check_reply, require_loopback, run_load, start_app

CLIENTS = 20
QUESTIONS = 1000
TIMEOUT_S = 600.0


def _good_reply() -> dict:
    text = "今年地区生产总值增长6%左右。"
    hit = {"rank": 1, "doc_id": "d", "chunk_id": "c1", "title": "t", "section": "s",
           "start": 0, "end": len(text), "paragraph": 1, "text": text, "score": 1.5,
           "bm25_rank": 1, "dense_rank": None}
    return {"question": "今年GDP目标", "understood": "今年GDP目标", "answered": True,
            "answer": "今年地区生产总值增长6%左右", "message": "今年地区生产总值增长6%左右",
            "citations": [{}], "hits": [hit], "answer_citation": 1, "confidence": 0.9}


def test_check_reply_accepts_a_well_formed_answer():
    assert check_reply(_good_reply(), "今年GDP目标") == []


@pytest.mark.parametrize("breakage", [
    lambda r: r.pop("hits"),
    lambda r: r.update(answered="yes"),
    lambda r: r["hits"][0].pop("chunk_id"),
    lambda r: r["hits"][0].update(start=5, end=5),
    lambda r: r.update(answer="报告里没有的句子"),
    lambda r: r.update(answered=False),  # declined but still carries an answer
    lambda r: r.update(question="别的问题"),
])
def test_check_reply_flags_malformed_answers(breakage):
    reply = _good_reply()
    breakage(reply)
    assert check_reply(reply, "今年GDP目标")
    assert check_reply("not json", "q")


def test_only_loopback_urls_are_accepted():
    assert require_loopback("http://127.0.0.1:7860") == "http://127.0.0.1:7860/"
    for url in ("http://10.0.0.5:7860/", "http://example.com/", "ftp://127.0.0.1/"):
        with pytest.raises(ValueError):
            require_loopback(url)


@pytest.mark.slow
def test_twenty_clients_thousand_questions(tmp_path):
    from eval.load import builtin_questions

    app = start_app(tmp_path / "app.log", feedback_db=tmp_path / "feedback.sqlite3")
    try:
        result = run_load(app.url, builtin_questions(), CLIENTS, QUESTIONS, TIMEOUT_S)
    finally:
        app.stop()
    summary = {k: result[k] for k in ("completed", "errors", "malformed", "wall_s", "p50_ms",
                                      "p95_ms", "error_samples", "malformed_samples",
                                      "client_errors")}
    assert result["clients_connected"] == CLIENTS, summary
    assert result["completed"] == QUESTIONS, summary
    assert result["errors"] == 0, summary
    assert result["malformed"] == 0, summary
    assert result["ok"] == QUESTIONS and result["passed"], summary
