"""What a question asks beyond its words: which year, whether a figure, which report terms.

A work report for year Y states targets for Y (今年) and results for Y-1 (去年) with the
same words and different numbers, so the year a question means is a ranking signal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"

CURRENT = "current"  # 今年: the report's own year
PREVIOUS = "previous"  # 去年: the year the report reviews

_CURRENT_WORDS = re.compile(
    r"今年|本年|当年|目标|力争|计划|要达到|this year|current year|target|plan(?:ned)?\b|goal", re.I
)
_PREVIOUS_WORDS = re.compile(
    r"去年|上年|上一年|过去一年|一年来|last year|previous year|past year|did\b|was\b|were\b|"
    r"achieved|grew\b|produced\b", re.I
)
_ABS_YEAR = re.compile(r"((?:19|20)\d{2})\s*(?:年|\b)")
_NUMBER_WORDS = re.compile(
    r"多少|几[个项条家万亿千百%]?|多大|多高|多快|比例|比重|百分之|增速|增长率|增幅|涨幅|规模|产量|"
    r"产值|目标|数量|人数|how (?:many|much)|what (?:percentage|share|proportion)|rate\b|"
    r"target|number of|growth", re.I
)
_FIGURE_WORDS = re.compile(
    r"多少|几[个项条家万亿千百倍%大种所座]|多大|多高|多长|多快|比例|比重|百分之|增速|增幅|涨幅|"
    r"how (?:many|much)|what (?:percentage|share|proportion)|\brate\b", re.I
)
_LIST_WORDS = re.compile(r"哪些|哪几|有什么|都有|包括|分别|列举|which\b|what are|list", re.I)
_ENGLISH_WORD = re.compile(r"[a-z][a-z&\-]*", re.I)


@dataclass(frozen=True)
class YearIntent:
    """``kind`` is CURRENT, PREVIOUS, "absolute" (a calendar year) or None (not asked)."""

    kind: str | None
    year: int | None = None

    def target_year(self, report_year: int | None) -> int | None:
        """The calendar year meant, relative to a report of ``report_year``."""
        if self.kind == "absolute":
            return self.year
        if report_year is None:
            return None
        if self.kind == CURRENT:
            return report_year
        if self.kind == PREVIOUS:
            return report_year - 1
        return None


def year_intent(question: str) -> YearIntent:
    """Which year the question is about; an explicit calendar year wins over 今年/去年."""
    m = _ABS_YEAR.search(question)
    if m:
        return YearIntent("absolute", int(m.group(1)))
    prev = _PREVIOUS_WORDS.search(question)
    cur = _CURRENT_WORDS.search(question)
    if prev and not cur:
        return YearIntent(PREVIOUS)
    if cur and not prev:
        return YearIntent(CURRENT)
    if prev and cur:
        # both (e.g. 今年比去年): the explicit Chinese word that comes first decides
        return YearIntent(PREVIOUS if prev.start() < cur.start() else CURRENT)
    return YearIntent(None)


def wants_number(question: str) -> bool:
    """True when the question asks for a figure (多少, 几, 目标, how many, ...)."""
    return bool(_NUMBER_WORDS.search(question))


def asks_figure(question: str) -> bool:
    """Stricter than ``wants_number``: the question literally asks for a quantity."""
    return bool(_FIGURE_WORDS.search(question))


def wants_list(question: str) -> bool:
    return bool(_LIST_WORDS.search(question))


def is_mostly_english(question: str) -> bool:
    letters = sum(c.isascii() and c.isalpha() for c in question)
    cjk = sum("\u4e00" <= c <= "\u9fff" for c in question)
    return letters > 3 * max(cjk, 1)


@lru_cache(maxsize=1)
def _synonyms() -> tuple[tuple[str, tuple[str, ...]], ...]:
    rows = []
    for line in (_DATA / "synonyms.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, terms = line.partition("\t")
        rows.append((key.strip().lower(), tuple(terms.split())))
    return tuple(rows)


def matched_keys(question: str) -> list[str]:
    """The vocabulary entries (everyday or English words) that occur in the question."""
    q = question.lower()
    words = set(_ENGLISH_WORD.findall(q))
    return [key for key, _ in _synonyms() if (key in words if key.isascii() else key in q)]


def expand_terms(question: str) -> list[str]:
    """Report terms for everyday or English words in the question (deduplicated, in order)."""
    table = dict(_synonyms())
    out: list[str] = []
    for key in matched_keys(question):
        out.extend(t for t in table[key] if t not in out and t not in question)
    return out
