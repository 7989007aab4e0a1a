"""One chat turn: question + session state → reply HTML, new state, structured JSON.

The web app (app.py) only lays out components and calls these functions. The session state
keeps the previous questions *as understood* (``Answer.understood``), which
``QAEngine.ask(history=...)`` uses to resolve follow-ups such as ``那去年呢？``, and the
answers shown so far, so the transcript can be re-rendered (e.g. when the staff view is
switched on) without asking the engine again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from qa.render import render_answer, render_question
from qa.types import Answer

MAX_HISTORY = 20  # understood questions kept for follow-up resolution
MAX_TURNS = 50  # answers kept per session for re-rendering the transcript
VERDICTS = ("wrong", "confirmed")


@dataclass(frozen=True)
class Turn:
    """One answered question and the report paragraphs around its citations."""

    answer: Answer
    contexts: dict[str, Any] = field(default_factory=dict)  # chunk id → qa.engine.Context


@dataclass(frozen=True)
class ChatSession:
    """Per-browser-session state (kept in ``gr.State``)."""

    history: tuple[str, ...] = ()
    turns: tuple[Turn, ...] = ()

    @property
    def last_answer(self) -> Answer | None:
        return self.turns[-1].answer if self.turns else None


@dataclass(frozen=True)
class ChatReply:
    answer: Answer
    html: str
    session: ChatSession

    def to_json(self) -> dict:
        """``Answer.to_json()`` plus the history to send with the next question and the
        rendered (escaped) question and reply HTML."""
        return {**self.answer.to_json(), "history": list(self.session.history),
                "question_html": user_message(self.answer), "html": self.html}


def contexts_for(engine, answer: Answer) -> dict[str, Any]:
    """The paragraph around each cited passage (``engine.context``); unknown ids skipped."""
    out = {}
    for c in answer.citations:
        try:
            out[c.chunk_id] = engine.context(c.chunk_id)
        except (KeyError, IndexError):
            continue
    return out


def next_history(history: tuple[str, ...] | list[str], answer: Answer) -> tuple[str, ...]:
    """History after this turn: the understood question appended (empty turns add nothing)."""
    hist = tuple(history)
    if answer.understood:
        hist = (*hist, answer.understood)
    return hist[-MAX_HISTORY:]


def ask(engine, question: str | None, session: ChatSession | None = None, *,
        staff: bool = False, doc_id: str | None = None, year: int | None = None) -> ChatReply:
    """Answer one chat turn in the context of ``session``; returns the new session.

    ``doc_id`` / ``year`` restrict the question to one report or one year's reports."""
    session = session or ChatSession()
    answer = engine.ask(question or "", history=list(session.history), doc_id=doc_id or None,
                        year=year or None)
    contexts = contexts_for(engine, answer)
    turn = Turn(answer, contexts)
    new = ChatSession(next_history(session.history, answer),
                      (*session.turns, turn)[-MAX_TURNS:])
    return ChatReply(answer, render_answer(answer, contexts=contexts, staff=staff), new)


def user_message(answer: Answer, raw: str | None = None) -> str:
    """The question bubble: the question as used (cut, cleaned), escaped."""
    return render_question(answer.question or (raw or "").strip())


def messages(session: ChatSession, *, staff: bool = False) -> list[dict]:
    """The transcript as chat messages (role/content dicts) with our own escaped HTML."""
    out: list[dict] = []
    for turn in session.turns:
        out.append({"role": "user", "content": user_message(turn.answer)})
        out.append({"role": "assistant",
                    "content": render_answer(turn.answer, contexts=turn.contexts, staff=staff)})
    return out


def parse_history(history_json: str | None) -> list[str]:
    """The API's ``history_json``: a JSON list of previous (understood) questions.

    Also accepts the ``history`` list returned by the previous API call, or a list of
    previous answers' JSON (their ``understood`` is used). Raises ValueError otherwise.
    """
    if history_json is None or not str(history_json).strip():
        return []
    try:
        data = json.loads(history_json)
    except json.JSONDecodeError as e:
        raise ValueError(f"history_json is not valid JSON: {e}") from None
    if isinstance(data, dict) and "history" in data:
        data = data["history"]
    if not isinstance(data, list):
        raise ValueError("history_json must be a JSON list of previous questions")
    out = []
    for item in data:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("understood"), str):
            out.append(item["understood"])
        else:
            raise ValueError("history_json items must be strings (previous questions)")
    return [q for q in out if q.strip()][-MAX_HISTORY:]


def parse_year(value: str | int | None) -> int | None:
    """A year filter from a form or API value ("" or None = any year)."""
    if value is None or str(value).strip() in ("", "0", "全部", "all"):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"year must be a number such as 2023, got {value!r}") from None


def filter_choices(engine) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Dropdown choices (label, value) for the document and year filters."""
    docs = engine.documents()
    doc_choices = [("全部报告 / all reports", "")] + [(d.title, d.id) for d in docs]
    years = sorted({d.year for d in docs if d.year is not None}, reverse=True)
    year_choices = [("全部年份 / all years", "")] + [(str(y), str(y)) for y in years]
    return doc_choices, year_choices


def api_ask(engine, question: str | None, history_json: str | None = "[]",
            doc_id: str | None = "", year: str | int | None = "") -> dict:
    """The ``ask`` API endpoint: structured answer JSON plus the history for the next call."""
    history = parse_history(history_json)
    reply = ask(engine, question, ChatSession(tuple(history)), doc_id=doc_id or None,
                year=parse_year(year))
    return reply.to_json()


# ----- staff tools ---------------------------------------------------------------------
def citation_choices(session: ChatSession) -> list[tuple[str, int]]:
    """(label, number) pairs for the last answer's citations, for a dropdown."""
    answer = session.last_answer
    if answer is None:
        return []
    return [(f"[{c.number}] 第{c.paragraph}段 · {c.text[:24]}…", c.number)
            for c in answer.citations]


def citation_text(session: ChatSession, number: int | None) -> str:
    """The citation ``number`` of the last answer as plain text (``Citation.as_text``)."""
    answer = session.last_answer
    if answer is None:
        return ""
    if number is None:
        return "\n\n".join(c.as_text() for c in answer.citations)
    for c in answer.citations:
        if c.number == int(number):
            return c.as_text()
    return ""


def citation_record(answer: Answer, number: int) -> dict:
    """The JSON of citation ``number`` of ``answer`` (raises ValueError if absent)."""
    for hit in answer.to_json()["citations"]:
        if hit["number"] == int(number):
            return hit
    raise ValueError(f"the last answer has no citation [{number}]")


def record_feedback(store, engine, session: ChatSession, number: int | None, verdict: str,
                    comment: str = "") -> str:
    """Store a staff verdict on a citation of the last answer; returns a status line."""
    answer = session.last_answer
    if answer is None or not answer.citations:
        return "还没有可以评价的引用 / nothing to give feedback on yet."
    if number is None:
        return "请选择引用编号 / choose a citation number."
    if verdict not in VERDICTS:
        return "请选择“错误”或“确认” / choose wrong or confirmed."
    record = citation_record(answer, int(number))
    index_hash = str(engine.index.manifest.get("corpus_hash", ""))
    fid = store.add(answer.question, answer.answer or answer.message, record, verdict,
                    (comment or "").strip(), index_hash)
    label = "标记为错误 / flagged wrong" if verdict == "wrong" else "已确认 / confirmed"
    return f"已记录 #{fid}：引用 [{int(number)}] {label}"


def clear_session() -> ChatSession:
    return ChatSession()

