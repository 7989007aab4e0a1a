"""Sentence-level evidence: which sentence of a passage answers, and what to highlight."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from corpus.chunking import sentence_spans
from qa.intent import CURRENT, PREVIOUS, YearIntent

Span = tuple[int, int]
_FIGURE = re.compile(
    r"(?:约|近|超过|突破|达到|增长|下降|提高到|增加到|稳定在)?"
    r"\d[\d,.，]*\s*(?:多|余)?\s*(?:[%％‰]|倍|(?:万|亿|千|百)*(?:千瓦时|千瓦|公里|万户|个|项|条|家|人|"
    r"吨|斤|度|亩|台套|台|套|列|次|户|元|场|所|座|处|名|位|年|天|架|千米|米|平方米|立方米|"
    r"标准煤)?)(?:以上|左右|以内|以下)?|[一二三四五六七八九十百千万亿两]+(?:个|项|条|家|大|件)"
)
_SENT_PREVIOUS = re.compile(r"去年|上年|一年来|过去一年")
_SENT_CURRENT = re.compile(r"今年|本年|力争|目标")


_STOP_CHARS = frozenset("的了和与及是在有对把被将为以于等也都而并或其这那之个中上下吗呢啊吧呀么"
                       "多少什么哪些怎样如何是否请问一下我们你年今去内蒙古区")


def content_chars(question: str) -> frozenset[str]:
    """The question's Chinese characters that carry meaning (function words dropped)."""
    return frozenset(c for c in question if "\u4e00" <= c <= "\u9fff" and c not in _STOP_CHARS)


def char_overlap(chars: frozenset[str], text: str) -> float:
    """Fraction of the question's content characters found in ``text`` (paraphrase signal)."""
    if not chars:
        return 0.0
    present = set(text)
    return sum(1 for c in chars if c in present) / len(chars)


@dataclass(frozen=True)
class SentenceScore:
    span: Span  # offsets within the passage text
    score: float
    coverage: float


def figure_spans(text: str) -> list[Span]:
    """Spans of figures with their units (``12.2亿吨``, ``6%左右``, ``3800亿元以上``)."""
    return [(m.start(), m.end()) for m in _FIGURE.finditer(text) if any(c.isdigit() for c in
            m.group()) or m.end() - m.start() >= 2]


def term_spans(text: str, terms: Sequence[str]) -> list[Span]:
    """Non-overlapping occurrences of ``terms`` in ``text``, longest terms first, sorted."""
    taken = [False] * len(text)
    spans: list[Span] = []
    low = text.lower()
    for t in sorted({t for t in terms if len(t) >= 2 or not t.isascii()}, key=len, reverse=True):
        t = t.lower()
        start = low.find(t)
        while start >= 0:
            end = start + len(t)
            if not any(taken[start:end]):
                spans.append((start, end))
                for i in range(start, end):
                    taken[i] = True
            start = low.find(t, end)
    return sorted(spans)


def sentence_year_signal(sentence: str, passage_year: int | None, report_year: int | None,
                         intent: YearIntent) -> float:
    """+1 when the sentence speaks of the year asked about, -1 when of the other one, else 0."""
    if intent.kind is None or report_year is None:
        return 0.0
    target = intent.target_year(report_year)
    if _SENT_PREVIOUS.search(sentence):
        year = report_year - 1
    elif _SENT_CURRENT.search(sentence):
        year = report_year
    else:
        year = passage_year
    if year is None or target is None:
        return 0.0
    if intent.kind in (CURRENT, PREVIOUS) or target in (report_year, report_year - 1):
        return 1.0 if year == target else -1.0
    return 0.0


def score_sentences(
    passage: str,
    weights: Mapping[str, float],
    tokenize: Callable[[str], list[str]],
    numeric: bool,
    year_signal: Callable[[str], float],
) -> list[SentenceScore]:
    """Score each sentence by idf-weighted query-term coverage, figures and year fit."""
    total = sum(weights.values())
    out = []
    for a, b in sentence_spans(passage):
        sent = passage[a:b]
        got = sum(weights.get(t, 0.0) for t in set(tokenize(sent)))
        cov = got / total if total > 0 else 0.0
        score = cov
        if numeric and any(c.isdigit() for c in sent):
            score += 0.15
        score += 0.2 * year_signal(sent)
        out.append(SentenceScore((a, b), score, cov))
    return out
