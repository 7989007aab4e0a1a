"""Question sanitising: whatever people paste becomes safe, bounded plain text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

MAX_QUESTION_CHARS = 300
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_TAG = re.compile(r"<[^<>]{0,200}>")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_WORDY = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class CleanQuestion:
    """The question as shown back (``display``) and as searched (``query``)."""

    display: str
    query: str
    notices: tuple[str, ...]


def clean_question(raw: str | None) -> CleanQuestion:
    """Strip control characters, cut over-long text, and derive the search text.

    The search text is NFKC-normalised (full-width digits → ASCII) with HTML tags and
    Markdown link syntax removed; the display text is kept as typed (escaped at render).
    """
    notices: list[str] = []
    text = _CONTROL.sub(" ", raw or "")
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > MAX_QUESTION_CHARS:
        text = text[:MAX_QUESTION_CHARS]
        notices.append(f"问题过长，只使用了前{MAX_QUESTION_CHARS}个字符。"
                       f"(Question cut to {MAX_QUESTION_CHARS} characters.)")
    query = unicodedata.normalize("NFKC", text)
    query = _MD_LINK.sub(r"\1", query)
    query = _TAG.sub(" ", query)
    query = re.sub(r"\s+", " ", query).strip()
    return CleanQuestion(text, query, tuple(notices))


def has_words(text: str) -> bool:
    """True when the text has at least one letter, digit or Chinese character."""
    return bool(_WORDY.search(text))


def term_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Non-overlapping occurrences of ``terms`` in ``text``, longest terms first (of two as
    long, the one occurring first: 拖着工资 before 工资不发 in 拖着工资不发), sorted."""
    taken = [False] * len(text)
    spans: list[tuple[int, int]] = []
    low = text.lower()
    wanted = [t for t in dict.fromkeys(t.lower() for t in terms if len(t) >= 2 or not t.isascii())
              if t in low]
    # the order must not hang on a set's (which varies with the hash seed)
    for t in sorted(wanted, key=lambda t: (-len(t), low.find(t), t)):
        start = low.find(t)
        while start >= 0:
            end = start + len(t)
            if not any(taken[start:end]):
                spans.append((start, end))
                for i in range(start, end):
                    taken[i] = True
            start = low.find(t, end)
    return sorted(spans)
