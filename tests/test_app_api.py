"""The real app.py in a subprocess, used through gradio_client (real index, real model)."""

from __future__ import annotations

import json

import pytest
from _app_server import answers, free_port, start_app

from qa.text import MAX_QUESTION_CHARS

pytestmark = pytest.mark.slow

NOT_FOUND = "报告中没有找到与此相关的内容"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One app for the module: --port given, and a different GRADIO_SERVER_PORT that the
    command-line option must override."""
    tmp = tmp_path_factory.mktemp("app")
    port, env_port = free_port(), free_port()
    srv = start_app(["--port", str(port)], tmp / "app.log", port,
                    env={"GRADIO_SERVER_PORT": str(env_port)}, feedback_db=tmp / "fb.sqlite3")
    srv.env_port = env_port
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server.url, verbose=False)


def ask(client, question, history="[]") -> dict:
    return client.predict(question, history, api_name="/ask")


def test_cli_port_wins_over_env(server):
    assert answers(server.url)
    assert not answers(f"http://127.0.0.1:{server.env_port}/", timeout=1.0)


def test_ask_endpoint_is_public(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert "/ask" in api["named_endpoints"]
    params = [p["parameter_name"] for p in api["named_endpoints"]["/ask"]["parameters"]]
    assert params == ["question", "history_json", "doc_id", "year"]


def test_answer_with_citation(client):
    r = ask(client, "今年煤化工产值目标")
    assert r["answered"] is True
    first = r["citations"][0]
    assert "现代煤化工产值突破千亿元" in first["text"]
    assert r["answer"] and r["answer"] in first["text"]
    assert r["answer_citation"] == 1
    assert r["hits"][0]["chunk_id"] == first["chunk_id"]
    assert "现代煤化工产值突破千亿元" in r["html"] and "<details" in r["html"]
    assert r["history"] == ["今年煤化工产值目标"]


def test_followup_through_the_api(client):
    first = ask(client, "今年煤化工产值目标")
    r = ask(client, "那去年呢？", json.dumps(first["history"]))
    assert "去年" in r["understood"] and "煤化工" in r["understood"]
    assert "理解为" in r["html"]


def test_unanswerable_question_is_declined(client):
    r = ask(client, "广东省2023年GDP增长目标是多少")  # another province's figure
    assert r["answered"] is False, (
        f"engine answered an unanswerable question (confidence {r['confidence']:.3f}): "
        f"{r['answer']!r}")
    assert NOT_FOUND in r["message"]
    assert NOT_FOUND in r["html"]
    if r["citations"]:
        assert "低置信度" in r["html"]


def test_script_in_question_comes_back_escaped(client):
    q = "<script>alert(1)</script>今年煤化工产值目标 ![x](http://a)"
    r = ask(client, q)
    assert r["question"] == q  # the JSON carries the text as data
    for html in (r["html"], r["question_html"]):
        assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "&lt;script&gt;alert&#40;1&#41;&lt;/script&gt;" in r["question_html"]


def test_empty_question_gets_a_message(client):
    r = ask(client, "   ")
    assert r["answered"] is False and r["citations"] == []
    assert "请输入" in r["message"] and "请输入" in r["html"]
    assert r["history"] == []


def test_greeting_and_writing_request_get_a_reply_not_a_passage(client):
    hello = ask(client, "你好")
    assert hello["answered"] is False and hello["citations"] == []
    assert "您好" in hello["html"] and "报告" in hello["message"]
    assert hello["history"] == [], "small talk is not a question to follow up on"
    poem = ask(client, "帮我写一首关于草原的诗")
    assert poem["answered"] is False and poem["citations"] == []
    assert "不写诗文" in poem["html"]
    assert "低置信度" not in poem["html"]


def test_long_question_is_cut_with_notice(client):
    r = ask(client, "今年煤化工产值目标" * 60)
    assert len(r["question"]) == MAX_QUESTION_CHARS
    assert r["notices"] and str(MAX_QUESTION_CHARS) in r["notices"][0]
    assert "gwr-notice" in r["html"]


def test_bad_history_is_a_clear_error(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="history_json"):
        ask(client, "今年煤化工产值目标", "not json")


def test_concurrent_questions_get_their_own_answers(client):
    """Several users at once (the queue runs them concurrently): no answer gets mixed up."""
    questions = ["今年煤化工产值目标", "今年城镇新增就业目标", "去年粮食产量",
                 "今年地区生产总值增长目标是多少？"]
    expected = {q: ask(client, q)["answer"] for q in questions}
    jobs = [(q, client.submit(q, "[]", api_name="/ask")) for q in questions * 2]
    for q, job in jobs:
        r = job.result(timeout=120)
        assert r["question"] == q and r["answer"] == expected[q]


def test_env_port_is_honoured(tmp_path):
    """``python app.py`` with only GRADIO_SERVER_PORT set serves on that port."""
    port = free_port()
    srv = start_app([], tmp_path / "app.log", port, env={"GRADIO_SERVER_PORT": str(port)},
                    feedback_db=tmp_path / "fb.sqlite3")
    try:
        from gradio_client import Client

        r = Client(srv.url, verbose=False).predict("今年煤化工产值目标", "[]", api_name="/ask")
        assert r["answered"] is True
    finally:
        srv.stop()
