"""Hostile and odd questions, through the engine (``qa``), the chat path and the real app.

Every input gets a clear reply: an Answer with a message, never an exception, never a
stack trace, and never markup from the user's text in the HTML (escaped forms only).
The app is ``python app.py`` in a subprocess, used through gradio_client's ``/ask``.
"""

from __future__ import annotations

import html
import inspect
import json
import re
from dataclasses import dataclass

import pytest
from _app_server import free_port, start_app

from qa import chat
from qa.engine import EMPTY, NO_WORDS, NOT_FOUND
from qa.render import render_answer
from qa.text import MAX_QUESTION_CHARS
from qa.types import Answer

pytestmark = pytest.mark.slow

RAW_TAGS = ("<script", "<img", "<a ", "<iframe", "<svg", "onerror=", "href=", "javascript:")
TRACE_MARKS = ("Traceback (most recent call last)", 'File "/', "Error:", "Exception")


@dataclass(frozen=True)
class Case:
    question: str
    message: str | None = None  # the exact message expected (for replies without an answer)
    answer: str | None = None  # a figure the answer must contain
    understood: str | None = None  # the exact search text expected
    cut: bool = False  # longer than MAX_QUESTION_CHARS: a notice says it was cut
    escaped: tuple[str, ...] = ()  # escaped forms that must appear in the question HTML


LONG = ("今年煤化工产值目标" * 1200)[:10_000]
CASES = {
    "empty": Case("", message=EMPTY),
    "whitespace": Case(" \t\n\r\u3000  \n", message=EMPTY),
    "10000_chars": Case(LONG, cut=True, answer="千亿元大关"),
    "punctuation": Case("？！。，、；：‘’“”……——（）《》?!.,;:'\"()[]{}<>/\\|@#$%^&*-+=~`",
                        message=NO_WORDS),
    "emoji": Case("😀🎉🚀👍🏽❤️‍🔥🇨🇳", message=NO_WORDS),
    "control_chars": Case("今年\x00煤化工\x01产值\x07目标\x1b[2J\x7f\u200b\ufeff",
                          answer="千亿元大关"),
    "nul_only": Case("\x00\x00\x00\x01\x02", message=EMPTY),
    "html_script": Case("<script>alert('x')</script><img src=x onerror=alert(1)>"
                        "<a href='http://evil.example'>点我</a>今年GDP增长目标",
                        answer="6%左右",
                        escaped=("&lt;script&gt;", "&lt;img", "&lt;a href")),
    "markdown": Case("[点我](http://evil.example) ![img](http://evil.example/x.png) "
                     "**今年**煤化工产值目标 <http://evil.example>",
                     answer="千亿元大关", escaped=("&#91;点我&#93;&#40;http",)),
    "sql": Case("' OR 1=1; DROP TABLE flags;--", escaped=("1&#61;1; DROP TABLE flags;&#45;&#45;",)),
    "mixed": Case("2023年GDP growth target是多少 6%?", answer="6%左右"),
    "fullwidth_digits": Case("２０２３年ＧＤＰ目标", answer="6%左右", understood="2023年GDP目标"),
    "apostrophe": Case("What's the GDP growth target for this year?", answer="6%左右"),
}
IDS = list(CASES)


def no_trace(text: str) -> None:
    for mark in TRACE_MARKS:
        assert mark not in text, f"stack trace / error text in reply: {text[:300]!r}"


def no_raw_tags(markup: str) -> None:
    low = markup.lower()
    for tag in RAW_TAGS:
        assert tag not in low, f"raw {tag!r} in reply HTML"
    assert "](" not in markup and "![" not in markup, "Markdown link/image syntax left unescaped"


def check_answer(case: Case, ans: Answer) -> None:
    """The expectations on the structured reply (engine Answer or the API's JSON alike)."""
    assert isinstance(ans, Answer)
    assert ans.message.strip(), "every reply carries a message"
    no_trace(ans.message + "".join(ans.notices) + ans.answer)
    assert all(ord(ch) >= 32 and ch not in "\x7f\u200b\ufeff" for ch in ans.understood), \
        repr(ans.understood)
    if case.message is not None:
        assert ans.message == case.message
        assert ans.answered is False and ans.citations == ()
    if case.answer is not None:
        assert ans.answered, (ans.confidence, ans.extra.get("evidence"))
        assert case.answer in ans.answer
        assert ans.answer in ans.citations[0].text
    if case.understood is not None:
        assert ans.understood == case.understood
    if case.cut:
        assert len(ans.question) == MAX_QUESTION_CHARS
        assert ans.notices and str(MAX_QUESTION_CHARS) in ans.notices[0]
    else:
        assert ans.notices == ()
    if ans.answered:
        assert ans.message == ans.answer
    elif case.message is None:
        assert ans.message in (NOT_FOUND, NO_WORDS, EMPTY)


# ----- through the engine -------------------------------------------------------------
@pytest.mark.parametrize("name", IDS)
def test_engine(engine, name):
    case = CASES[name]
    ans = engine.ask(case.question)
    check_answer(case, ans)
    reply = render_answer(ans)
    no_raw_tags(reply)
    no_trace(reply)
    if case.cut:
        assert "gwr-notice" in reply


def test_engine_accepts_none(engine):
    ans = engine.ask(None)
    assert ans.message == EMPTY and not ans.answered


# ----- through the chat path (the functions app.py's chat box calls) ------------------
@pytest.fixture(scope="module")
def chat_submit(engine):
    """app.py's own ``submit`` handler of the chat box (not exposed to API clients)."""
    import app

    demo = app.build_app(engine)
    fns = [f for f in demo.fns.values() if f.name == "submit"]
    assert fns, "app.py has no chat submit handler"
    fn = fns[0].fn
    # (question, session, staff, *filters): filters left at their "any" value ""
    n_filters = len(inspect.signature(fn).parameters) - 3

    def submit(question, session, staff):
        return fn(question, session, staff, *([""] * n_filters))

    return submit


@pytest.mark.parametrize("name", IDS)
def test_chat_path(chat_submit, name):
    from qa.chat import ChatSession

    case = CASES[name]
    messages, session, cleared, _choices, cite_text = chat_submit(case.question, ChatSession(),
                                                                  True)
    assert cleared == ""  # the input box is emptied
    assert [m["role"] for m in messages] == ["user", "assistant"]
    user, reply = messages[0]["content"], messages[1]["content"]
    for shown in (user, reply):
        no_raw_tags(shown)
        no_trace(shown)
    check_answer(case, session.last_answer)
    for form in case.escaped:
        assert form in user, (form, user)
    if case.message is not None:
        assert case.message in reply
    if case.answer is not None:
        assert case.answer in reply
    no_trace(cite_text)


def test_chat_followup_after_hostile_turn(engine):
    """A hostile turn does not poison the session: a normal follow-up still works."""
    first = chat.ask(engine, CASES["html_script"].question)
    second = chat.ask(engine, "今年煤化工产值目标", first.session)
    third = chat.ask(engine, "那去年呢？", second.session)
    assert third.answer.understood == "去年煤化工产值目标"


# ----- through the real app (gradio_client) -------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile-app")
    port = free_port()
    srv = start_app(["--port", str(port)], tmp / "app.log", port,
                    feedback_db=tmp / "fb.sqlite3")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server.url, verbose=False)


def api_ask(client, question: str, history: str = "[]") -> dict:
    return client.predict(question, history, api_name="/ask")


@pytest.mark.parametrize("name", IDS)
def test_app_api(client, name):
    case = CASES[name]
    r = api_ask(client, case.question)
    no_trace(json.dumps(r, ensure_ascii=False))
    for key in ("html", "question_html"):
        no_raw_tags(r[key])
    for form in case.escaped:
        assert form in r["question_html"], (form, r["question_html"])
    assert r["message"].strip()
    if case.message is not None:
        assert r["message"] == case.message and r["answered"] is False
        assert r["citations"] == [] and case.message in r["html"]
    if case.answer is not None:
        assert r["answered"] is True and case.answer in r["answer"]
        assert r["answer"] in r["citations"][0]["text"]
        assert r["hits"][0]["chunk_id"] == r["citations"][0]["chunk_id"]
    if case.understood is not None:
        assert r["understood"] == case.understood
    if case.cut:
        assert len(r["question"]) == MAX_QUESTION_CHARS
        assert r["notices"] and str(MAX_QUESTION_CHARS) in r["notices"][0]
        assert "gwr-notice" in r["html"]
    else:
        assert r["notices"] == []
    # the reply's history is usable for the next call (nothing added for empty turns)
    assert r["history"] == ([r["understood"]] if r["understood"] else [])


def bubble_text(question_html: str) -> str:
    """What a browser shows for the question bubble: tags dropped, entities decoded once."""
    return html.unescape(re.sub(r"<[^>]*>", "", question_html))


@pytest.mark.parametrize("name", IDS)
def test_app_question_bubble_shows_the_text_as_typed(client, name):
    case = CASES[name]
    r = api_ask(client, case.question)
    shown = r["question"] if r["question"].strip() else "（空问题 / empty question）"
    assert bubble_text(r["question_html"]) == shown


def test_app_hostile_filters(client):
    """Filter values are user input too: an unknown document id gets the filter message
    (escaped), a non-numeric year a clear error, not a stack trace."""
    from gradio_client.exceptions import AppError

    evil = "<script>alert(1)</script>"
    r = client.predict("今年煤化工产值目标", "[]", evil, "", api_name="/ask")
    assert r["answered"] is False and r["citations"] == []
    assert "筛选" in r["message"]
    no_raw_tags(r["html"])
    with pytest.raises(AppError, match="year must be a number") as err:
        client.predict("今年煤化工产值目标", "[]", "", "1999; DROP TABLE flags", api_name="/ask")
    no_trace(str(err.value).replace("AppError", ""))


def test_app_hostile_history_json(client):
    """Hostile text inside the follow-up history is data, not markup."""
    evil = "<script>alert(1)</script>今年煤化工产值目标"
    r = api_ask(client, "那去年呢？", json.dumps([evil]))
    no_raw_tags(r["html"])
    assert "煤化工" in r["understood"] and "去年" in r["understood"]


def test_app_chat_handlers_are_not_exposed_to_clients(client):
    """The chat box's handlers are private; /ask is the one public endpoint, so the chat
    path is tested in-process above (test_chat_path) with app.py's own handler."""
    api = client.view_api(print_info=False, return_format="dict")
    assert list(api["named_endpoints"]) == ["/ask"]
    assert api["unnamed_endpoints"] == {}
    from gradio_client.exceptions import AppError

    with pytest.raises((AppError, ValueError)):
        client.predict("今年煤化工产值目标", api_name="/submit")


def test_app_still_answers_after_hostile_inputs(client):
    """After the whole table, the server still answers normally (no crashed worker)."""
    for case in CASES.values():
        api_ask(client, case.question)
    r = api_ask(client, "今年煤化工产值目标")
    assert r["answered"] and "千亿元大关" in r["answer"]


# ----- known bugs (see the reasons) ---------------------------------------------------
def test_sql_looking_string_is_not_answered(engine):
    ans = engine.ask(CASES["sql"].question)
    assert ans.answered is False
    assert ans.message == NOT_FOUND


def test_underscore_punctuation_has_no_words(engine):
    for q in ("___", "？_？", "-_-"):
        ans = engine.ask(q)
        assert ans.message == NO_WORDS and ans.citations == (), q
