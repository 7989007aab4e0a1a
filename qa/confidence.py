"""The not-found decision: is the best passage really an answer, or only the closest text?

Signals that generalise beyond one report: how similar the passage is (dense cosine), how
much of the question's meaning it covers (idf-weighted, with words the corpus never uses
counted as uncovered), and four mismatches that make an answer wrong even when the words
fit: another place, another year, a figure asked for but none given, a date asked for but
none given. Weights were set by hand and the threshold calibrated on the project's own
question set (README: "Declining").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"
_WHEN = re.compile(r"哪年|哪一年|什么时候|何时|几月|多久|when\b|what year", re.I)
_DATE = re.compile(r"(?:19|20)\d{2}年|\d{1,2}月|年底|年内|年初|年前|今年|明年|\d+年(?:左右|内)|"
                   r"用\d+年|[一二三四五]年")


@lru_cache(maxsize=1)
def places() -> tuple[str, ...]:
    lines = (_DATA / "places.txt").read_text(encoding="utf-8").splitlines()
    return tuple(x.strip() for x in lines if x.strip() and not x.startswith("#"))


def foreign_places(question: str, title: str, passage: str) -> list[str]:
    """Places named in the question that neither the report title nor the passage names."""
    return [p for p in places() if p in question and p not in title and p not in passage]


def asks_when(question: str) -> bool:
    return bool(_WHEN.search(question))


def has_date(text: str) -> bool:
    return bool(_DATE.search(text))


@dataclass(frozen=True)
class Evidence:
    """What the decision looks at, kept in the answer for staff and for calibration."""

    dense: float  # cosine of question and best passage
    margin: float  # best passage cosine minus the mean cosine of a sample of all passages
    english: bool  # cross-lingual cosines run lower
    coverage: float  # share of the question's idf weight found in the passage (OOV = missing)
    sentence: float  # best sentence score
    foreign_place: bool
    year_mismatch: bool
    figure_missing: bool
    date_missing: bool
    year_absent: bool = False  # asks of a year the report never names (not its own or the last)

    def to_json(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v)
                for k, v in self.__dict__.items()}


def confidence(e: Evidence) -> float:
    """0..1 evidence that the passage answers; hard mismatches pull it down strongly.

    A logistic score; the weights are rounded from a class-balanced logistic regression on
    the built-in question set (absolute cosine carried no weight once the margin over
    unrelated passages was known), so they are few and interpretable.
    """
    z = (-2.1 + 0.45 * e.margin / 0.03 + 1.65 * e.coverage + 1.5 * e.sentence
         + 0.3 * e.english)
    z -= 1.9 * e.foreign_place + 2.6 * e.year_mismatch + 2.0 * e.figure_missing
    z -= 2.0 * e.date_missing
    z -= 6.0 * e.year_absent  # hand-set: the report cannot speak of a year it never names
    return 1.0 / (1.0 + math.exp(-z))
