"""qa/chat.py with the real engine and index: follow-ups, session state, API JSON, feedback."""

from __future__ import annotations

import json

import pytest

from qa import chat
from qa.text import MAX_QUESTION_CHARS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine():
    from index.build import ensure_builtin_index
    from qa.engine import QAEngine

    return QAEngine.from_path(ensure_builtin_index())


def test_followup_is_understood_in_context(engine):
    first = chat.ask(engine, "今年煤化工产值目标")
    assert first.answer.answered
    assert first.session.history == ("今年煤化工产值目标",)
    second = chat.ask(engine, "那去年呢？", first.session)
    understood = second.answer.understood
    assert "去年" in understood and "煤化工" in understood, understood
    assert second.session.history == ("今年煤化工产值目标", understood)
    assert "理解为" in second.html and "煤化工" in second.html
    # the transcript holds both turns, question bubble then reply
    msgs = chat.messages(second.session)
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]
    assert "那去年呢" in msgs[2]["content"]


def test_thanks_between_turns_keeps_the_followup_context(engine):
    first = chat.ask(engine, "今年煤化工产值目标")
    thanks = chat.ask(engine, "谢谢！", first.session)
    assert not thanks.answer.answered and "不客气" in thanks.html
    assert "最接近的段落" not in thanks.html, "small talk shows no passages"
    assert thanks.session.history == first.session.history
    third = chat.ask(engine, "那去年呢？", thanks.session)
    assert "煤化工" in third.answer.understood, third.answer.understood


def test_reply_html_quotes_and_contexts(engine):
    reply = chat.ask(engine, "今年煤化工产值目标")
    first = reply.answer.citations[0]
    assert "现代煤化工产值突破千亿元" in first.text
    assert reply.answer.answer in first.text  # the answer is an exact slice of the passage
    turn = reply.session.turns[-1]
    assert set(turn.contexts) == {c.chunk_id for c in reply.answer.citations}
    ctx = turn.contexts[first.chunk_id]
    assert ctx.text[ctx.passage_start:ctx.passage_end] == first.text
    assert reply.html.count("<details") == len(reply.answer.citations)
    assert "gwr-staff" not in reply.html
    staff = chat.messages(reply.session, staff=True)[-1]["content"]
    assert "BM25" in staff and "gwr-staff" in staff


def test_empty_and_long_questions(engine):
    empty = chat.ask(engine, "   ")
    assert not empty.answer.answered and empty.answer.message
    assert empty.session.history == ()  # nothing to follow up on
    assert "gwr-message" in empty.html
    long = chat.ask(engine, "今年煤化工产值目标" * 100)
    assert len(long.answer.question) == MAX_QUESTION_CHARS
    assert long.answer.notices and "gwr-notice" in long.html


def test_api_json_with_history(engine):
    first = chat.api_ask(engine, "今年煤化工产值目标", "[]")
    assert first["answered"] and first["history"] == ["今年煤化工产值目标"]
    assert first["citations"][0]["number"] == 1 and first["hits"][0]["rank"] == 1
    json.dumps(first)  # plain JSON
    second = chat.api_ask(engine, "那去年呢？", json.dumps(first["history"]))
    assert "去年" in second["understood"] and "煤化工" in second["understood"]
    # the whole previous reply is accepted as history too
    again = chat.api_ask(engine, "那去年呢？", json.dumps(first))
    assert again["understood"] == second["understood"]


@pytest.mark.parametrize("bad", ["not json", '{"a": 1}', "[1, 2]", '"x"'])
def test_api_rejects_bad_history(bad):
    with pytest.raises(ValueError):
        chat.parse_history(bad)


def test_parse_history_accepts_empty():
    assert chat.parse_history("") == [] and chat.parse_history(None) == []
    assert chat.parse_history('["a", " ", {"understood": "b"}]') == ["a", "b"]


def test_citation_text_and_feedback(engine, tmp_path):
    reply = chat.ask(engine, "今年煤化工产值目标")
    choices = chat.citation_choices(reply.session)
    assert [n for _, n in choices] == [c.number for c in reply.answer.citations]
    assert chat.citation_text(reply.session, 2) == reply.answer.citations[1].as_text()
    assert chat.citation_text(chat.ChatSession(), 1) == ""

    from qa.feedback import FeedbackStore

    with FeedbackStore(tmp_path / "fb.sqlite3") as store:
        status = chat.record_feedback(store, engine, reply.session, 1, "confirmed", " 对 ")
        assert "[1]" in status
        assert "未" not in chat.record_feedback(store, engine, reply.session, 2, "wrong", "")
        assert "选择" in chat.record_feedback(store, engine, reply.session, None, "wrong")
        flags = store.list()
    assert [(f.verdict, f.comment) for f in flags] == [("confirmed", "对"), ("wrong", "")]
    first = reply.answer.citations[0]
    assert flags[0].quote == first.text and flags[0].start == first.start
    assert flags[0].index_hash == engine.index.manifest["corpus_hash"]
