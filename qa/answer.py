"""Sentence-level evidence: which sentence of a passage answers, and what to highlight."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from corpus.chunking import sentence_spans
from qa.intent import CURRENT, PREVIOUS, YearIntent, asked_period, period_years

Span = tuple[int, int]
_UNIT = (r"(?:[%％‰]|倍|个百分点|(?:[万亿千百]+)?(?:千瓦时|千瓦|公里|吨|斤|度|亩|台套|个|项|条|家|"
         r"人|美元|元|列|次|户|场|所|座|处|名|位|架|套|台|天|小时|米|辆|张|件|批|岁|级|块|枚)|[万亿千百]+)")
_FIGURE = re.compile(
    r"\d[\d,.]*/\d+"  # a fraction, one figure: 约占全国的1/4
    r"|\d[\d,.]*\s*(?:多|余)?\s*" + _UNIT + r"?(?:以上|左右|以内|以下|大关)?"
    r"|[一二两三四五六七八九十]?[百千万亿]{1,3}[万亿]?(?:元|吨|斤|千瓦|度|亩|人|户)?(?:以上|左右|大关)?"
    r"|第[一二两三四五六七八九十百]{1,3}(?:次|届|个|批|轮|期|位)"
    r"|[两三四五六七八九十]{1,3}(?:个|项|家|条|所|座|倍|批|类|种|件)"
)
# 比上年/较去年 compare with last year: the sentence itself speaks of its own year
_SENT_PREVIOUS = re.compile(r"(?<![比较])去年|(?<![网线早晚马路比较])上年|一年来|过去一年")
_SENT_CURRENT = re.compile(r"今年|本年|力争|目标")
_SENT_THIS_YEAR = re.compile(r"今年|本年")
# a five-year plan period speaks of several years, not the one a question asks about: a
# farther miss than the neighbouring year (-1), so its signal is -2 (measured: -1 left the
# 十五五 goals above 今年's targets in the Guangdong 2026 report, -3 cost one question)
PERIOD_PENALTY = 2.0
_SENT_PERIOD = re.compile(r"十[一二三四五六七八九]五”?(?:时期|期间)|(?:今后|未来|过去)五年|五年来")


PROXIMITY_WEIGHT = 0.3
FIGURE_CLAUSE_WEIGHT = 0.3
_STOP_CHARS = frozenset("的了和与及是在有对把被将为以于等也都而并或其这那之个中上下吗呢啊吧呀么"
                       "多少什么哪些怎样如何是否请问一下我们你年今去内蒙古区")


def content_chars(question: str) -> frozenset[str]:
    """The question's Chinese characters that carry meaning (function words dropped)."""
    return frozenset(c for c in question if "\u4e00" <= c <= "\u9fff" and c not in _STOP_CHARS)


@lru_cache(maxsize=512)
def content_bigrams(question: str) -> frozenset[str]:
    """Adjacent Chinese character pairs of the question (phrase-order signal)."""
    q = "".join(c if "\u4e00" <= c <= "\u9fff" else " " for c in question)
    pairs = {q[i:i + 2] for i in range(len(q) - 1)}
    return frozenset(p for p in pairs if " " not in p and not set(p) <= _STOP_CHARS)


def bigram_overlap(bigrams: frozenset[str], text: str) -> float:
    """Fraction of the question's character pairs that occur in ``text``."""
    if not bigrams:
        return 0.0
    return sum(1 for b in bigrams if b in text) / len(bigrams)


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
    """Spans of figures with their units (``12.2亿吨``, ``6%左右``, ``千亿元大关``)."""
    return list(_figure_spans(text))


@lru_cache(maxsize=65536)
def _figure_spans(text: str) -> tuple[Span, ...]:
    # cached: the same passages' sentences and clauses are read for every question
    return tuple((m.start(), m.end()) for m in _FIGURE.finditer(text)
                 if any(c.isdigit() for c in m.group()) or m.end() - m.start() >= 2)


# A unit asked for also accepts the report's other ways of writing it; 个, the general
# counting word, stands in for any other (40个企业 answers 多少家企业).
_COUNTS = ("家", "所", "项", "条", "座", "套", "辆", "次", "列", "台", "批", "户", "处", "件")
_UNIT_FORMS = {"度": ("度", "千瓦时"), "人": ("人", "名", "位"), "公里": ("公里", "千米", "米"),
               "亩": ("亩", "公顷"), "吨": ("吨", "斤", "公斤", "千克"), "千瓦": ("千瓦", "瓦"),
               "%": ("%", "％", "‰", "百分点", "倍", "/"), "天": ("天", "小时"),
               "小时": ("小时", "天"), "个": ("个", *_COUNTS),
               **{c: (c, "个") for c in _COUNTS}}


@lru_cache(maxsize=65536)
def has_figure(text: str, unit: str | None = None, asked: str = "") -> bool:
    """Whether ``text`` states a figure, in ``unit`` when one is asked (多少吨 needs 吨),
    other than one the question ``asked`` names itself (5家 in 5家企业上市的规模)."""
    named = {asked[a:b] for a, b in figure_spans(asked)} if asked else set()
    spans = [(a, b) for a, b in figure_spans(text) if text[a:b] not in named]
    if unit is None:
        return bool(spans)
    forms = _UNIT_FORMS.get(unit, (unit,))
    return any(f in text[a:b] for a, b in spans for f in forms)


# a growth target a report states as a relation, not a figure (居民收入增长和经济增长同步)
_PACED = re.compile(r"([\u4e00-\u9fff]{2})增长[与和同跟].{0,8}增长(?:基本)?同步")
_ASKS_CHANGE = re.compile(r"增长|增速|增幅|涨|提高|\bgrow|\brise\b|\bincrease", re.I)


def states_change(text: str, question: str) -> bool:
    """A change asked for (收入能涨多少, 收入增长目标) is stated as keeping pace with another
    one (居民收入增长和经济增长同步): that is the report's answer, though it has no figure.
    The question names what keeps pace (收入): 工资 or 最低工资 is not answered so."""
    paced = _PACED.search(text)
    return bool(paced and paced.group(1) in question and _ASKS_CHANGE.search(question))


_ASKS_TARGET = re.compile(r"目标|预期|指标|\btargets?\b|\bgoals?\b", re.I)
_STATES_TARGET = re.compile(r"目标|力争|预期|计划|左右|争取|年度任务|确保")


def result_for_target(question: str, sentence: str) -> bool:
    """The question asks for a target and the sentence states a result, not a target or
    task (去年GDP增长目标 is not answered by 去年一季度全区经济增长5.8%: a report sets its
    own year's targets and reviews last year's results)."""
    return bool(_ASKS_TARGET.search(question)) and not _STATES_TARGET.search(sentence)


_PART_YEAR = re.compile(r"[一二三四1-4１-４]季度|前三季|上半年|下半年|[前头]\d{1,2}个?月|"
                        r"\d{1,2}[-—～~至到]\d{1,2}月|\bfirst (?:quarter|half)\b|\bQ[1-4]\b", re.I)


def part_for_whole(question: str, sentence: str) -> bool:
    """The sentence gives part of a year (一季度, 上半年, 1-9月) for a question that names
    no part: 去年GDP增长多少 is not answered by 去年一季度全区经济增长5.8%."""
    return bool(_PART_YEAR.search(sentence)) and not _PART_YEAR.search(question)


def speaks_of_period(text: str) -> bool:
    """A five-year plan period (十五五时期, 今后五年) and not this year (今年) is spoken of."""
    return not _SENT_THIS_YEAR.search(text) and bool(_SENT_PERIOD.search(text))


def sentence_year_signal(sentence: str, passage_year: int | None, report_year: int | None,
                         intent: YearIntent, passage: str = "") -> float:
    """+1 when the sentence speaks of the year asked about, -1 when of the other one, -2
    when of a five-year period instead, else 0. A question about a five-year period is
    answered by :func:`period_signal`."""
    if intent.period is not None:
        return period_signal(sentence, passage, passage_year, report_year, intent)
    if intent.kind is None or report_year is None:
        return 0.0
    target = intent.target_year(report_year)
    if _SENT_PREVIOUS.search(sentence):
        year = report_year - 1
    elif speaks_of_period(sentence):
        return -PERIOD_PENALTY if target in (report_year, report_year - 1) else 0.0
    elif _SENT_CURRENT.search(sentence):
        year = report_year
    else:
        year = passage_year
    if year is None or target is None:
        return 0.0
    if intent.kind in (CURRENT, PREVIOUS) or target in (report_year, report_year - 1):
        return 1.0 if year == target else -1.0
    return 0.0


def period_signal(sentence: str, passage: str, passage_year: int | None,
                  report_year: int | None, intent: YearIntent) -> float:
    """For a question about a five-year period (过去五年, 十四五时期): +1 when the sentence
    (else its passage) speaks of that period, -1 when of a period that does not overlap it
    (今后五年 for 过去五年) or, naming none, when the passage's year lies outside it (今年's
    targets for 五年来), else 0."""
    asked = intent.period_years(report_year)
    if asked is None:
        return 0.0
    spoken = (period_years(asked_period(sentence), report_year)
              or period_years(asked_period(passage), report_year))
    if spoken is None:
        if passage_year is None:
            return 0.0
        return 0.0 if asked[0] <= passage_year <= asked[1] else -1.0
    if abs(spoken[0] - asked[0]) <= 1 and abs(spoken[1] - asked[1]) <= 1:
        return 1.0
    return -1.0 if spoken[1] < asked[0] or spoken[0] > asked[1] else 0.0


def proximity(sentence: str, terms: Sequence[str]) -> float:
    """How tightly the query terms found in ``sentence`` sit together: the matched terms'
    length over the shortest window holding one occurrence of each (1.0 = adjacent).
    0 when fewer than two distinct terms occur."""
    occ = []
    for t in {t for t in terms if len(t) >= 2 or not t.isascii()}:
        start = sentence.find(t)
        while start >= 0:
            occ.append((start, start + len(t), t))
            start = sentence.find(t, start + 1)
    found = {t for _, _, t in occ}
    if len(found) < 2:
        return 0.0
    # drop terms contained in a longer found term (能源 inside 新能源)
    found = {t for t in found if not any(t != u and t in u for u in found)}
    occ = sorted(o for o in occ if o[2] in found)
    best = len(sentence) + 1
    counts: dict[str, int] = {}
    lo = 0
    for hi, (_, _, t) in enumerate(occ):
        counts[t] = counts.get(t, 0) + 1
        while len(counts) == len(found):
            best = min(best, max(e for _, e, _ in occ[lo:hi + 1]) - occ[lo][0])
            lt = occ[lo][2]
            counts[lt] -= 1
            if not counts[lt]:
                del counts[lt]
            lo += 1
    return min(1.0, sum(len(t) for t in found) / best)


def score_sentences(
    passage: str,
    weights: Mapping[str, float],
    tokenize: Callable[[str], list[str]],
    numeric: bool,
    year_signal: Callable[[str], float],
    bigrams: frozenset[str] = frozenset(),
    unit: str | None = None,
    loose: Mapping[str, float] | None = None,
) -> list[SentenceScore]:
    """Score each sentence by idf-weighted term coverage, phrase order, figures (in the
    unit asked for, if any) and year. ``loose`` characters (税, 交 of 交了) count where a
    sentence holds them inside any word (减税降费, 保交楼)."""
    loose = loose or {}
    total = sum(weights.values()) + sum(loose.values())
    present = [t for t in weights if weights[t] > 0]
    out = []
    for a, b in _sentence_spans(passage):
        sent = passage[a:b]
        # summed in the weights' order, not a set's (which varies with the hash seed), so
        # tied sentences rank the same in every process
        toks = set(tokenize(sent))
        got = sum(w for t, w in weights.items() if t in toks)
        got += sum(w for c, w in loose.items() if c in sent)
        cov = got / total if total > 0 else 0.0
        score = cov + 0.5 * bigram_overlap(bigrams, sent)
        score += PROXIMITY_WEIGHT * proximity(sent, present)
        if numeric and _has_digit(sent):
            score += 0.15
        if unit and has_figure(sent, unit):
            score += 0.15
        score += 0.2 * year_signal(sent)
        if numeric and FIGURE_CLAUSE_WEIGHT:
            score += FIGURE_CLAUSE_WEIGHT * figure_clause_share(passage, a, b, weights, unit)
        out.append(SentenceScore((a, b), score, cov))
    return out


@lru_cache(maxsize=65536)
def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


@lru_cache(maxsize=4096)
def _sentence_spans(passage: str) -> tuple[Span, ...]:
    return tuple(sentence_spans(passage))


_CLAUSE_END = re.compile(r"[，,；;：:]")


def figure_clause_share(passage: str, a: int, b: int, weights: Mapping[str, float],
                        unit: str | None = None) -> float:
    """The largest share of the question's weight held by one clause of ``passage[a:b]``
    that also states a figure: the figure asked for sits beside its subject (粮食产量780亿斤,
    not 粮食安全…，煤炭产量12.2亿吨)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    terms = [t for t, w in weights.items() if w > 0 and (len(t) >= 2 or not t.isascii())]
    best = 0.0
    for clause in _figure_clauses(passage, a, b, unit):
        best = max(best, sum(weights[t] for t in terms if t in clause) / total)
    return best


@lru_cache(maxsize=65536)
def _figure_clauses(passage: str, a: int, b: int, unit: str | None) -> tuple[str, ...]:
    """The clauses of ``passage[a:b]`` that state a figure (in ``unit``, if given)."""
    return tuple(c for c in (passage[x:y] for x, y in clause_spans(passage, a, b))
                 if has_figure(c, unit))


def clause_spans(text: str, a: int, b: int) -> list[Span]:
    """Clauses of ``text[a:b]`` split after ，；： (the separator stays with its clause)."""
    out, pos = [], a
    for m in _CLAUSE_END.finditer(text, a, b):
        out.append((pos, m.end()))
        pos = m.end()
    if pos < b:
        out.append((pos, b))
    return [x for x in out if x[1] > x[0]]


def narrow_answer(
    passage: str,
    span: Span,
    weights: Mapping[str, float],
    tokenize: Callable[[str], list[str]],
    numeric: bool,
    max_chars: int = 120,
    unit: str | None = None,
) -> Span:
    """Within a long sentence, the clauses that answer: the best clause plus neighbours
    that carry query terms or (for a figure question) figures, up to ``max_chars``."""
    a, b = span
    if b - a <= max_chars:
        return span
    clauses = clause_spans(passage, a, b)
    if len(clauses) <= 1:
        return span

    # a word in several clauses is the sentence's topic, not what picks the clause: it
    # weighs 1/sqrt(clauses holding it) (做大做强现代煤化工产业链 vs 加快…重大项目建设)
    words = [dict.fromkeys(tokenize(passage[c[0]:c[1]])) for c in clauses]
    spread = Counter(t for ws in words for t in ws)

    def value(i: int) -> float:
        c = clauses[i]
        v = sum(weights.get(t, 0.0) / math.sqrt(spread[t]) for t in words[i])
        if numeric and has_figure(passage[c[0]:c[1]], unit):
            v += max(weights.values()) if weights else 1.0
        return v

    vals = [value(i) for i in range(len(clauses))]
    i = max(range(len(clauses)), key=lambda j: (vals[j], -j))
    lo = hi = i
    while True:
        grown = False
        for j in (hi + 1, lo - 1):
            if 0 <= j < len(clauses) and vals[j] > 0:
                new_lo, new_hi = min(lo, j), max(hi, j)
                if clauses[new_hi][1] - clauses[new_lo][0] <= max_chars:
                    lo, hi, grown = new_lo, new_hi, True
        if not grown:
            break
    start, end = clauses[lo][0], clauses[hi][1]
    while end > start and passage[end - 1] in "，,；;：:":
        end -= 1
    return start, end


# a sentence that announces items (今年要抓好四件事。, 重点是：) and one that is an item
_LIST_OPENING = re.compile(r"[：:]\s*$|[一二三四五六七八九十两几\d]+"
                           r"(?:件事|个方面|方面|点|项工作|大任务)|如下|以下")
_LIST_ITEM = re.compile(r"^\s*(?:[一二三四五六七八九十]是|第[一二三四五六七八九十]|"
                        r"[（(][一二三四五六七八九十\d]+[）)]|[一二三四五六七八九十\d]+[、．.]|"
                        r"首先|其次|再次|最后)")


def is_heading(text: str) -> bool:
    """A short sentence without digits that is no item (人才引育要再加强。): a paragraph's
    heading, which names a topic and leaves what is done about it to what follows."""
    return len(text) < 30 and not any(c.isdigit() for c in text) and not _LIST_ITEM.match(text)


def extend_heading(passage: str, span: Span, max_chars: int) -> Span:
    """A heading shown as the answer to a how/what question is followed by its paragraph's
    next sentences, up to ``max_chars`` (人才引育要再加强。 alone says nothing of how)."""
    a, b = span
    if not is_heading(passage[a:b].strip()) or passage[a:b].rstrip()[-1:] not in "。！!":
        return span
    return extend_for_list(passage, span, max_chars)


def extend_for_list(passage: str, span: Span, max_chars: int) -> Span:
    """For a list question, the answer sentence plus the items that follow it, up to
    ``max_chars``: every following sentence after an opening (``今年要抓好四件事。``) or a
    heading (a short sentence without digits: ``培育壮大新兴产业、未来产业。``), the rest of
    a list while its items end in ；, else only sentences that are items (一是…, （二）…).
    A review's next sentence is no item: 建成…养老服务机构885个。 is not followed by
    文艺精品迭出…"""
    a, b = span
    text = passage[a:b]
    opening = bool(_LIST_OPENING.search(text.rstrip("。；;"))) or is_heading(text)
    for x, y in sentence_spans(passage):
        if x < b:
            continue
        item = (opening or _LIST_ITEM.match(passage[x:y])
                or passage[a:b].rstrip()[-1:] in "；;")
        if item and (y - a <= max_chars or b - a < 30):
            b = y
        else:
            break
    return a, b
