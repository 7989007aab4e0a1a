"""The not-found decision: is the best passage really an answer, or only the closest text?

Signals that generalise beyond one report: how much more similar the passage is to the
question than passages in general, how much of the question's meaning it covers
(idf-weighted; words the corpus never uses count as uncovered; for English, the report
terms its words translate to), the best sentence's score, and five mismatches that make an
answer wrong even when the words fit: another place, another year, a figure (in the unit)
asked for but none given, a date asked for but none given, a place asked for but none
named. Weights and threshold come from ``python -m eval calibrate`` (README: "Declining").
The engine takes the lower confidence of two passages: the one shown, and the one ranked
first without the sentence-level similarity (which lifts paraphrased answers but makes a
passage that does not answer look close too).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"
# when asks a question at the start or before its verb (When will…, …when did…), not in a
# clause (stay visa-free when in transit); how long / 多久 asks for a span
_WHEN = re.compile(r"哪年|哪一年|什么时候|何时|几月|哪天|哪一天|几号|哪日|多久|多长时间|^\s*when\b|"
                   r"\bwhen (?:will|would|did|does|do|is|was|are|were|can|could|has|have)\b|"
                   r"what year|which year|what date|how long\b(?! (?:is|are|was|were) the\b)",
                   re.I)
_DATE = re.compile(r"(?:19|20)\d{2}年|\d{1,2}月|年底|年内|年初|年前|今年|明年|\d+年(?:左右|内)|"
                   r"用\d+年|[一二三四五]年|\d+(?:多)?(?:个)?(?:小时|天|周|个月)")


@lru_cache(maxsize=1)
def places() -> tuple[str, ...]:
    lines = (_DATA / "places.txt").read_text(encoding="utf-8").splitlines()
    return tuple(x.strip() for x in lines if x.strip() and not x.startswith("#"))


def foreign_places(question: str, scope: str, passage: str) -> list[str]:
    """Places named in the question that neither the report's scope (its title, or
    :func:`report_scope`) nor the passage names."""
    return [p for p in places() if p in question and p not in scope and p not in passage]


_NATIONAL = re.compile(r"代表国务院|国务院总理")
_SALUTATION = re.compile(r"各位代表")


def cover_end(text: str) -> int:
    """Where a report's cover (title, meeting, speaker and date lines before 各位代表)
    ends; 0 when there is none."""
    m = _SALUTATION.search(text[:400])
    return m.start() if m else 0


_ABOUT_REPORT = re.compile(r"谁作|谁做|谁讲|报告人|哪天|哪一天|什么时候作|日期|哪次会议|哪届|"
                           r"会议上|总理|省长|市长|主席|标题|题目|\bwho\b|\bdeliver|\btitle\b",
                           re.I)


def asks_about_report(question: str) -> bool:
    """The question asks about the report itself (who gave it, when, at which meeting)."""
    return bool(_ABOUT_REPORT.search(question))


# who delivered the report, when, at which meeting: only its cover lines (title, meeting,
# speaker, date before 各位代表) or its opening (现在，我代表…向大会报告) can say
_DELIVERY = re.compile(
    r"(?:谁|哪位(?:领导)?|什么人)(?:来)?(?:作|做|讲|念|读|发表|宣读|所作)|报告人|作报告的|做报告的|作的报告|"
    r"(?:哪次|哪个|什么|哪一次|哪届)会(?:议)?上?(?:作|做|发表|宣读)|"
    r"(?:哪天|哪一天|什么时候|何时|几月几[日号])(?:作|做|发表|宣读|发布)|"
    r"\bwho\s+(?:delivered|gave|presented|made|wrote|read)\b|"
    r"\b(?:when|where|at which meeting|at what meeting)\s+(?:was|is)\s+(?:it|this|the)\b[^?]{0,30}"
    r"\b(?:delivered|given|presented)\b", re.I)
_REPORT_WORD = re.compile(r"报告|\breport\b|\bspeech\b", re.I)
_OPENING = re.compile(r"我代表.{0,12}向大会报告")


def asks_delivery(question: str) -> bool:
    """The question asks who delivered the report, when or at which meeting (it names the
    report: 新政策什么时候发布 asks about the policy)."""
    return bool(_REPORT_WORD.search(question) and _DELIVERY.search(question))


def tells_delivery(text: str) -> bool:
    """A passage that can say who delivered the report: the opening 我代表…向大会报告."""
    return bool(_OPENING.search(text))


def report_scope(title: str, text: str) -> str:
    """The places a report speaks for: its title, its cover lines (the text before 各位代表,
    e.g. 在广东省第十四届人民代表大会…), and 全国 for the State Council's report."""
    cover = text[: cover_end(text)]
    national = " 全国" if _NATIONAL.search(text[:3000]) else ""
    return f"{title} {cover}{national}"


_WHERE = re.compile(r"在哪|哪里|哪儿|哪个(?:城市|地方|盟市|市|县|旗|省)|什么地方|\bwhere\b", re.I)
_PLACE = re.compile(r"[\u4e00-\u9fff]{2,}(?:省|(?<!城)市(?!场)|盟|旗|县|镇|乡|苏木|嘎查|口岸|港)")


def asks_where(question: str) -> bool:
    return bool(_WHERE.search(question))


def has_place(text: str, asked: str = "") -> bool:
    """A named place: one of the listed places or a name with a place suffix (…市, …旗),
    other than one the question ``asked`` names itself (内蒙古的首府在哪 is not answered
    by a sentence that names 内蒙古)."""
    return (any(p in text and p not in asked for p in places())
            or any(m.group() not in asked for m in _PLACE.finditer(text)))


def asks_when(question: str) -> bool:
    return bool(_WHEN.search(question))


def has_date(text: str, asked: str = "") -> bool:
    """A date or period, other than one the question ``asked`` names itself (今年…什么时候
    is not answered by a sentence that says 今年)."""
    return any(m.group() not in asked for m in _DATE.finditer(text))


_OFFICE = re.compile(r"总理|省长|市长|主席|区长|州长|县长|盟长|旗长|书记")
_NAME_LINE = re.compile(r"[\u4e00-\u9fff](?:[\u3000 ·]?[\u4e00-\u9fff]){1,3}")
_ASKS_MEETING = re.compile(r"会议|哪次会|\bmeeting\b", re.I)


def answers_delivery(text: str, question: str, on_cover: bool) -> bool:
    """Whether a passage answers a delivery question: a cover line holding what is asked,
    or, for who, the opening (我代表国务院…)."""
    if on_cover:
        return cover_line_fits(text, question)
    return (tells_delivery(text) and not asks_when(question)
            and not _ASKS_MEETING.search(question))


def cover_line_fits(line: str, question: str) -> bool:
    """Whether a cover line holds what a delivery question asks: the date for when, the
    meeting for which meeting, else the speaker (an office such as 国务院总理, or a line
    that is only a name, 李　强)."""
    if asks_when(question):
        return has_date(line)
    if _ASKS_MEETING.search(question):
        return "会议" in line
    return bool(_OFFICE.search(line) or _NAME_LINE.fullmatch(line.strip()))


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
    place_missing: bool = False  # asks where (在哪, 哪个城市) and the answer names no place
    year_absent: bool = False  # asks of a year the report never names (not its own or the last)
    delivery_absent: bool = False  # asks who delivered the report; no cover or opening says
    delivery_found: bool = False  # asks who delivered it and a cover line (or opening) says

    def to_json(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v)
                for k, v in self.__dict__.items()}


# The features the decision weighs, in order; ``eval calibrate`` fits WEIGHTS over them.
FEATURES = ("margin", "coverage", "sentence", "english", "foreign_place", "year_mismatch",
            "figure_missing", "date_missing", "place_missing")
# Rounded from ``python -m eval calibrate`` (class-balanced logistic regression) on the
# builtin, calibration, national2025 and calibration2 question sets (two reports); README
# "Declining" has the command and the fit.
WEIGHTS = {"margin": 4.69, "coverage": 1.88, "sentence": 0.35, "english": -0.10,
           "foreign_place": -2.71, "year_mismatch": -2.82, "figure_missing": -2.35,
           "date_missing": -2.58, "place_missing": -1.13}
BIAS = -0.96
# Hand-set, not fitted: the report cannot speak of a year it never names, nor say who
# delivered it when its text has neither cover lines nor the opening; a cover line that
# says it answers whatever the words' overlap (no question set can calibrate these).
YEAR_ABSENT_WEIGHT = -6.0
DELIVERY_WEIGHT = 6.0


def feature_vector(e: Evidence) -> list[float]:
    """The evidence as numbers in FEATURES order (flags are 0/1)."""
    return [float(getattr(e, name)) for name in FEATURES]


def confidence(e: Evidence) -> float:
    """0..1 evidence that the passage answers; hard mismatches pull it down strongly."""
    z = BIAS + sum(WEIGHTS[n] * v for n, v in zip(FEATURES, feature_vector(e), strict=True))
    z += YEAR_ABSENT_WEIGHT * e.year_absent + DELIVERY_WEIGHT * (e.delivery_found
                                                                 - e.delivery_absent)
    return 1.0 / (1.0 + math.exp(-z))
