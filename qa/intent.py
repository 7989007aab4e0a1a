"""What a question asks beyond its words: which year, whether a figure, which report terms.

A work report for year Y states targets for Y (今年) and results for Y-1 (去年) with the
same words and different numbers, so the year a question means is a ranking signal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qa.text import term_spans

_DATA = Path(__file__).resolve().parent / "data"

CURRENT = "current"  # 今年: the report's own year
PREVIOUS = "previous"  # 去年: the year the report reviews

_CURRENT_WORDS = re.compile(
    r"今年|本年|当年|目标|力争|计划|要达到|this year|current year|target|plan(?:ned)?\b|goal", re.I
)
_PREVIOUS_WORDS = re.compile(
    r"去年|(?<![网线早晚马路])上年|上一年|过去一年|一年来|last year|previous year|past year|"
    r"did\b|was\b|were\b|achieved|grew\b|produced\b", re.I
)
_ABS_YEAR = re.compile(r"((?:19|20)\d{2})\s*(?:年|\b)")
# years counted from the report's own: 明年 in a 2023 report is 2024, 前年 is 2021
_RELATIVE_WORDS = (
    (re.compile(r"大后年"), 3), (re.compile(r"后年"), 2),
    (re.compile(r"明年|下一年|来年|next year", re.I), 1),
    (re.compile(r"大前年"), -3),
    (re.compile(r"(?<!大)前年|the year before last|two years ago", re.I), -2),
)
_PERIOD = re.compile(r"十[一二三四五六七八九]五|(?:今后|未来|过去)五年|五年来|年均|五年规划|"
                     r"\b\d{2}th five[- ]year plan|\b(?:past|last|previous|next|coming) five "
                     r"years\b", re.I)
_THIS_OR_LAST = re.compile(r"今年|本年|去年|上一?年|this year|last year", re.I)
RELATIVE = "relative"  # 明年, 前年: ``YearIntent.year`` holds the offset from the report year
# how many / how big ... asks for a figure (the English twin of 多少, 多大, 多快); 几 of
# 几乎, 几何 and the 几字弯 of the Yellow River asks for none
_HOW_FIGURE = r"how (?:many|much|big|large|high|fast|far)\b"
_NUMBER_WORDS = re.compile(
    r"多少|几(?!乎|何|字)[个项条家万亿千百%]?|多大|多高|多快|比例|比重|百分之|增速|增长率|增幅|涨幅|规模|产量|"
    r"产值|目标|数量|人数|" + _HOW_FIGURE + r"|"
    r"what (?:percentage|share|proportion)|rate\b|"
    r"target|number of|growth", re.I
)
_FIGURE_WORDS = re.compile(
    r"多少|(?<!哪)几(?!乎|何|时|年|字)[\u4e00-\u9fff%]|多大|多高|多长|多快|比例|比重|百分之|增速|增幅|涨幅|"
    r"[^效频功]率(?:是|为|有|达|能|会|[？?]|\s|$|(?=今年|去年|多少))|"
    r"(?:产[量值]|总[量额]|收入|规模|增[长速幅]|[量值额率])(?:的)?(?:预期)?目标|"
    + _HOW_FIGURE + r"|what (?:percentage|share|proportion)|\brate\b|"
    r"\btargets?\b|\b(?:total|amount|value|size|volume)\b", re.I
)
# 多少吨 / 几所 / 多少钱: the unit a figure must carry to answer (钱 is 元, 位 counts 人).
_ASKED_UNIT = re.compile(
    r"(?:多少|几)(?:个)?(?:万|亿|千|百)?(钱|美元|元|吨|人|位|所|套|家|项|公里|亩|千瓦|度|户|辆|座|条|次|列|"
    r"台|批|岁|级|块|枚|倍|天|小时)"
    r"|多(长)"
)
_UNIT_ALIASES = {"钱": "元", "位": "人", "长": "公里"}
_LIST_WORDS = re.compile(
    r"哪些|哪[几两一二三四五六七八九十]|有什么|都有|包括|分别|列举|which\b|what are|list", re.I)
ENGLISH_WORD = re.compile(r"[a-z][a-z&\-]*", re.I)
# a vocabulary key's words may hold digits (5g, pm2.5, 14th five-year plan)
_KEY_WORD = re.compile(r"[a-z0-9](?:[a-z0-9&\-]|\.(?=[0-9]))*", re.I)


@dataclass(frozen=True)
class YearIntent:
    """``kind`` is CURRENT, PREVIOUS, "absolute" (``year`` is a calendar year), RELATIVE
    (``year`` is an offset from the report's year) or None (not asked). ``period`` names a
    five-year period asked about instead of a year (see :func:`period_years`)."""

    kind: str | None
    year: int | None = None
    period: str | None = None

    def period_years(self, report_year: int | None) -> tuple[int, int] | None:
        """First and last calendar year of the period asked about, relative to a report of
        ``report_year``."""
        return period_years(self.period, report_year)

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
        if self.kind == RELATIVE and self.year is not None:
            return report_year + self.year
        return None


_DIGIT_HAN = str.maketrans("0123456789", "〇一二三四五六七八九")


def names_year(text: str, year: int) -> bool:
    """Whether ``text`` names ``year``, in digits (2035年) or in characters (二〇三五年,
    also written with ○ or 零)."""
    han = str(year).translate(_DIGIT_HAN)
    return any(form in text for form in
               (str(year), han, han.replace("〇", "○"), han.replace("〇", "零")))


def year_intent(question: str) -> YearIntent:
    """Which year the question is about; an explicit calendar year wins over 明年/前年,
    which win over 今年/去年 (明年的目标 is about next year, whatever 目标 suggests)."""
    m = _ABS_YEAR.search(question)
    if m:
        return YearIntent("absolute", int(m.group(1)))
    if _PERIOD.search(question) and not _THIS_OR_LAST.search(question):
        # 十五五时期的目标: a five-year period, no single year
        return YearIntent(None, period=asked_period(question))
    for pattern, offset in _RELATIVE_WORDS:
        if pattern.search(question):
            return YearIntent(RELATIVE, offset)
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


# Five-year periods. The N-th five-year plan runs 1966+5(N-3) .. 1970+5(N-3) (十四五:
# 2021-2025); 过去五年 and 今后五年 are the five years before and from the report's year.
_PLAN_ZH = re.compile(r"十([一二三四五六七八九])五")
_PLAN_EN = re.compile(r"\b(1[0-9]|2[0-9])th five[- ]year plan", re.I)
_PAST_FIVE = re.compile(r"过去五年|近五年|五年来|这五年|回望五年|回顾五年|的五年(?=[。！!])|"
                        r"\b(?:past|last|previous) five years\b", re.I)
_NEXT_FIVE = re.compile(r"今后五年|未来五年|下一个五年|通过五年努力|"
                        r"\b(?:next|coming) five years\b", re.I)
_HAN_DIGIT = "一二三四五六七八九"


@lru_cache(maxsize=4096)
def asked_period(text: str) -> str | None:
    """The five-year period ``text`` names first: ``plan14`` (十四五), ``past5`` (过去五年,
    五年来) or ``next5`` (今后五年); None when it names none."""
    # cached: a period question reads each candidate passage's period once per sentence
    found = []
    for m in _PLAN_ZH.finditer(text):
        found.append((m.start(), f"plan{10 + _HAN_DIGIT.index(m.group(1)) + 1}"))
    for m in _PLAN_EN.finditer(text):
        found.append((m.start(), f"plan{int(m.group(1))}"))
    for pattern, name in ((_PAST_FIVE, "past5"), (_NEXT_FIVE, "next5")):
        m = pattern.search(text)
        if m:
            found.append((m.start(), name))
    return min(found)[1] if found else None


def period_years(period: str | None, report_year: int | None) -> tuple[int, int] | None:
    """First and last calendar year of a period named by :func:`asked_period`."""
    if period is None:
        return None
    if period.startswith("plan"):
        start = 1966 + 5 * (int(period[4:]) - 3)
        return start, start + 4
    if report_year is None:
        return None
    return (report_year - 5, report_year - 1) if period == "past5" else \
        (report_year, report_year + 4)


def wants_number(question: str) -> bool:
    """True when the question asks for a figure (多少, 几, 目标, how many, ...); whatever
    ``asks_figure`` (多长, total) takes for a figure question is one here too."""
    return bool(_NUMBER_WORDS.search(question) or _FIGURE_WORDS.search(question))


def asks_figure(question: str) -> bool:
    """Stricter than ``wants_number``: the question literally asks for a quantity."""
    return bool(_FIGURE_WORDS.search(question))


# 多少高标准农田 asks for 亩 though it names no unit: what a measured thing is counted in
# (not for a change, a share, a comparison or a per-unit figure: 就业增长多少 wants a
# percentage, 比全国多多少 a multiple)
_CHANGE_OR_SHARE = re.compile(r"增长|增速|增幅|提高|下降|降低|比例|比重|百分|率|占|"
                              r"比[^，,。？?]{0,10}[多少高低]|每(?![年天月日周])")
_ASKS_RATE = re.compile(r"(?<![效频功])率(?!先)|比例|比重|占比|百分比|百分之|增速|增幅|涨幅|"
                        r"\b(?:percentage|share|proportion|rate)\b", re.I)
_GENERIC_COUNT = re.compile(r"(?<!哪)(?:多少|几)个")
_ASKED_THING = re.compile(r"(?:多少|几)([\u4e00-\u9fff]{1,6})")
_COUNTED_IN = (
    (re.compile(r"农田|耕地|造林|种草|饲草|盐碱地|设施农业|草原|面积"), "亩"),
    (re.compile(r"公路|铁路|高速|管网|里程"), "公里"),
    (re.compile(r"发电量|电量|用电|发了多少电|发电"), "度"),
    (re.compile(r"人口|就业|人才|毕业生|游客|人数"), "人"),
    (re.compile(r"企业|公司|首店"), "家"),
    (re.compile(r"产量|粮食|牛奶|肉类"), "吨"),
    (re.compile(r"装机"), "千瓦"),
    (re.compile(r"收入|资金|投资|产值|税|融资|贷款|预算|债|钱|补贴|资产|利息|总额|零售额|销售额|"
                r"交易额|营业额|成交额"), "元"),
)

# how many kilometres / how much revenue: the unit the report writes it in
_ENGLISH_UNITS = {
    "公里": ("kilometers", "kilometres", "km"), "吨": ("tons", "tonnes"),
    "元": ("yuan", "money", "revenue", "funds", "funding"),
    "人": ("people", "persons", "students", "workers", "residents", "tourists", "visitors"),
    "家": ("companies", "enterprises", "firms"), "亩": ("mu", "hectares"),
    "千瓦": ("kilowatts", "kw", "gigawatts", "gw"), "度": ("kwh",), "户": ("households",),
    "列": ("trains",),
}
_ENGLISH_UNIT = re.compile(
    r"\bhow (?:many|much)\s+(?:[\w'-]+\s+){0,3}?("
    + "|".join(w for words in _ENGLISH_UNITS.values() for w in words) + r")\b", re.I)


def asked_unit(question: str) -> str | None:
    """The unit named right after 多少/几 (``多少吨`` -> 吨, ``多少钱`` -> 元) or after how
    many / how much, else the one the thing asked about is counted in
    (``去年建了多少高标准农田`` -> 亩), if any."""
    m = _ASKED_UNIT.search(question)
    if m:
        unit = m.group(1) or m.group(2)
        return _UNIT_ALIASES.get(unit, unit)
    e = _ENGLISH_UNIT.search(question)
    if e:
        return next(u for u, words in _ENGLISH_UNITS.items() if e.group(1).lower() in words)
    if not _FIGURE_WORDS.search(question):
        return None
    # the thing named right after 多少 is what is asked (降了利率以后少还多少利息: 利息, in 元,
    # not the 利率 said before it)
    thing = _ASKED_THING.search(question)
    if thing:
        unit = next((u for pat, u in _COUNTED_IN if pat.match(thing.group(1))), None)
        if unit:
            return unit
    # a rate, share or growth speed is answered by a percentage, fraction or multiple
    if _ASKS_RATE.search(question):
        return "%"
    if _CHANGE_OR_SHARE.search(question):
        return None
    # 几个 names its measure word: a count answers it (建几个创新港 is not 人 for 人才),
    # not an amount or a rate (有几个盟市 is not answered by 招商活动217场... 3300多亿元)
    if _GENERIC_COUNT.search(question):
        return "个"
    return next((u for pat, u in _COUNTED_IN if pat.search(question)), None)


_SCAFFOLD_WORDS = frozenset(
    "不是 是不是 能不能 不能不 打算 准备 时候 期间 程度 那边 这边 这类 那类 有关 一些 这些 那些 "
    "东西 事情 方面 具体 大概 一共 总共 听说 请问 你好 您好 谢谢 麻烦 想问".split()
)
_QUESTION_START = "哪几多怎什啥咋"
_AUX_FIRST = "要能会还想可别再该"
_AUX_LAST = "了过着吗呢么"


_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")


def phrasing_stem(word: str) -> str | None:
    """The verb or noun inside a two-character phrasing word (建了 → 建, 要建 → 建, 能涨 →
    涨): the part that still names what is asked."""
    if len(word) != 2 or word in _SCAFFOLD_WORDS or word[0] in _QUESTION_START:
        return None
    if word[0] in _AUX_FIRST and word[1] not in _AUX_LAST:
        return word[1]
    if word[1] in _AUX_LAST and word[0] not in _AUX_FIRST:
        return word[0]
    return None


# 发了多少电, 造多少林, 减了几次税: a verb and its one-character object around the question
# word, which the report writes as one word (发电, 造林, 减税)
_SPLIT_VERB_OBJECT = re.compile(r"([\u4e00-\u9fff])[了过]?(?:多少|几)([\u4e00-\u9fff])"
                                r"(?=$|[^\u4e00-\u9fff]|[了呢啊吗呀])")


def verb_objects(question: str, tokens: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    """Verb-object words a question splits around 多少/几 (发了多少电 → 发电), each with the
    question's ``tokens`` it stands for (发了, 电): the verb alone or in phrasing (要招, 发了)
    and the object alone, so 今年多少人 (年 is no word of its own) gives none."""
    out = []
    for m in _SPLIT_VERB_OBJECT.finditer(question):
        verb, obj = m.group(1), m.group(2)
        if verb in _QUESTION_START or verb in _AUX_FIRST or obj in "个种些" or obj not in tokens:
            continue
        said = tuple(t for t in tokens if t == verb or phrasing_stem(t) == verb)
        if said:
            out.append((verb + obj, (*said, obj)))
    return out


def without_a_not_a(question: str) -> str:
    """An A-not-A question (有没有提到, 能不能办, 可不可以) with the plain verb (有提到, 能办,
    可以): the negation is phrasing, so 没有/不能 are not searched for."""
    return _A_NOT_A.sub(r"\1", question)


def is_scaffolding(word: str) -> bool:
    """A question-phrasing word (几条, 建了, 要建, 打算) rather than a topic: a word the
    report lacks for this reason says nothing about whether the report covers the topic."""
    if word in _SCAFFOLD_WORDS or word[:1] in _QUESTION_START:
        return True
    return len(word) == 2 and (word[0] in _AUX_FIRST or word[1] in _AUX_LAST)


def wants_list(question: str) -> bool:
    return bool(_LIST_WORDS.search(question))


def is_mostly_english(question: str) -> bool:
    letters = sum(c.isascii() and c.isalpha() for c in question)
    cjk = sum("\u4e00" <= c <= "\u9fff" for c in question)
    return letters > 3 * max(cjk, 1)


def singular(word: str) -> str:
    """An English plural's singular (jobs → job, policies → policy, taxes → tax), so a
    vocabulary key matches either form; other words unchanged."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    return word[:-1]


def _key_form(word: str) -> str:
    """A question word as vocabulary keys are kept; a stop word stays as typed (plans is
    question phrasing, not the key plan)."""
    return word if word in _ENGLISH_STOP else singular(word)


@lru_cache(maxsize=1)
def _synonyms() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Key -> report terms, in file order; a key listed twice (or as singular and plural)
    gets the terms of both. English keys are kept in the singular."""
    table: dict[str, list[str]] = {}
    for line in (_DATA / "synonyms.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, terms = line.partition("\t")
        merged = table.setdefault(" ".join(singular(w) for w in key.lower().split()), [])
        merged.extend(t for t in terms.split() if t not in merged)
    return tuple((k, tuple(v)) for k, v in table.items())


@lru_cache(maxsize=1)
def _chinese_keys() -> tuple[str, ...]:
    return tuple(k for k, _ in _synonyms() if not k.isascii())


@lru_cache(maxsize=1)
def _synonym_table() -> dict[str, tuple[str, ...]]:
    return dict(_synonyms())


@lru_cache(maxsize=1)
def _english_keys() -> dict[str, frozenset[str]]:
    """English keys with their words."""
    return {k: frozenset(k.split()) for k, _ in _synonyms() if k.isascii()}


@lru_cache(maxsize=1)
def _phrases_by_word() -> dict[str, tuple[str, ...]]:
    """English keys of several words, by their first word."""
    out: dict[str, list[str]] = {}
    for k in _english_keys():
        if " " in k:
            out.setdefault(k.split()[0], []).append(k)
    return {w: tuple(ks) for w, ks in out.items()}


@lru_cache(maxsize=1)
def _key_order() -> dict[str, int]:
    return {k: i for i, (k, _) in enumerate(_synonyms())}


def matched_keys(question: str) -> list[str]:
    """The vocabulary entries (everyday or English words) that occur in the question.

    Chinese keys match as substrings; English keys as whole words or word sequences
    (``rare earth``)."""
    return list(_matched_keys(question))


@lru_cache(maxsize=512)
def _matched_keys(question: str) -> tuple[str, ...]:
    # cached: one question is looked up several times per answer, against ~3000 entries
    q = question.lower()
    words = [_key_form(w) for w in _KEY_WORD.findall(q)]
    parts = [_key_form(p) for w in words for p in w.split("-") if p]  # deficit-to-gdp: gdp
    single, phrase = set(words) | set(parts), f" {' '.join(words)} "
    phrase_parts = f" {' '.join(parts)} "
    # a word inserted inside a phrase (old residential neighborhoods: old neighborhood)
    gapped = {f" {' '.join(words[:i] + words[i + 1:])} " for i in range(1, len(words) - 1)
              if words[i] not in _ENGLISH_STOP}
    # longest Chinese keys first: 收入 inside 财政收入 is that word, not 收入 on its own
    chinese = {q[a:b] for a, b in term_spans(q, [k for k in _chinese_keys() if k in q])}
    english, by_word, order = _english_keys(), _phrases_by_word(), _key_order()
    present = set(words)
    found = (chinese & order.keys()) | (single & english.keys())
    loose: list[str] = []
    # a phrase key can only match when its first word is in the question
    for key in sorted({k for w in single for k in by_word.get(w, ())}, key=order.__getitem__):
        padded = f" {key} "
        if padded in phrase or padded in phrase_parts:
            found.add(key)
        elif english[key] <= present and any(padded in g for g in gapped):
            loose.append(key)
    out = sorted(found, key=order.__getitem__)  # in the vocabulary file's order
    # a loose match must not be a longer entry's words again (special treasury bonds is
    # not special bonds)
    whole = [set(k.split()) for k in out]
    return tuple(out + [k for k in loose if not any(set(k.split()) < w for w in whole)])


# Question and function words of English questions, and words naming the report itself.
_ENGLISH_STOP = frozenset("""
a an the of in on at to for from by with about into over under and or but not no is are was
were be been being do does did done will would shall should can could may might must has
have had how what which who whom whose when where why much many more most some any this
that these those there here it its they them their we our you your he she his her i me my
per each every all than then also just very year years last next this current previous
plan plans planned aim aims target targets goal goals expected expect new major main
inner mongolia mongolian region regional autonomous province provincial government report
work china chinese national country s
get gets getting got gotten want wants wanted need needs needed thing things going go goes
gone now currently today still already yet try tries trying tried hope hopes hoped make
makes making let lets like really actually anything something everything lot lots kind
sort way ways say said says tell know think mean means well even ever only around roughly
approximately one two three four five six seven eight nine ten hundred thousand million
billion they people someone anyone
""".split())


def overlaps_key(token: str, key: str) -> bool:
    """Whether a question token is part of a matched vocabulary key or holds it
    (收入 and 财政收入; companies and the key company)."""
    token = singular(token)
    return token in key or key in token


# how big / how far / how long ask for a figure or a span: the adjective is phrasing
_HOW_PHRASE = re.compile(r"\bhow (?:big|large|high|fast|far|long|often|soon)\b", re.I)


def english_content_words(question: str, unused: frozenset[str] = frozenset()) -> list[str]:
    """Content words of an English question that no vocabulary entry translates; an entry
    in ``unused`` (none of its terms is in the corpus) leaves its words untranslated."""
    keys = [k for k in matched_keys(question) if k not in unused]
    key_words = {w for k in keys for w in k.split()}
    words = ENGLISH_WORD.findall(_HOW_PHRASE.sub(" ", question.lower()))
    return [w for w in dict.fromkeys(words)
            if len(w) > 2 and w not in _ENGLISH_STOP and singular(w) not in key_words
            and not any(w.startswith(k) or k.startswith(w) for k in key_words)
            and not ("-" in w and all(p in key_words or p in _ENGLISH_STOP or len(p) <= 2
                                      for p in w.split("-")))]


def key_terms(question: str) -> list[tuple[str, ...]]:
    """For each vocabulary entry in the question, the report terms it stands for."""
    table = _synonym_table()
    return [table[k] for k in matched_keys(question)]


def expand_terms(question: str, uses: Callable[[str], bool] | None = None) -> list[str]:
    """Report terms for everyday or English words in the question (deduplicated, in order).

    An English word inside a longer phrase of the question that has a term of the report
    (``uses``; None: any term) is that phrase's word, as 收入 in 财政收入: economic in
    economic census adds no term for the economy."""
    table = _synonym_table()
    shadowed = shadowed_keys(question, uses)
    out: list[str] = []
    for key in matched_keys(question):
        if key not in shadowed:
            out.extend(t for t in table[key] if t not in out and t not in question)
    return out


def shadowed_keys(question: str, uses: Callable[[str], bool] | None = None) -> set[str]:
    """The question's English keys each of whose occurrences lies inside a longer key it
    matched that has a term of the report (``uses``; None: any term)."""
    table = _synonym_table()
    keys = matched_keys(question)
    phrases = [k for k in keys if " " in k and any(uses is None or uses(t) for t in table[k])]
    words = [_key_form(w) for w in _KEY_WORD.findall(question.lower())]

    def spans(key: str) -> list[tuple[int, int]]:
        kw = key.split()
        return [(i, i + len(kw)) for i in range(len(words) - len(kw) + 1)
                if words[i:i + len(kw)] == kw]

    covered = [span for p in phrases for span in spans(p)]
    out = set()
    for key in keys:
        if key.isascii() and (own := spans(key)) and all(
                any(a <= i and j <= b and b - a > j - i for a, b in covered) for i, j in own):
            out.add(key)
    return out


# what a which/what question asks for: the noun phrase ending it (招商引资有哪些模式 -> 模式,
# 有哪些地方在冲最高等级的景区 -> 景区)
_ASKED_HEAD = re.compile(r"(?:哪些|什么样的?|什么|哪[几两一]?[个类项种座家条]?|啥)"
                         r"(?:[\u4e00-\u9fff]*的)?([\u4e00-\u9fff]{1,6})[？?。!！\s]*$")


def asked_head(question: str) -> str:
    """The phrase a which/what question ends on, naming what it asks for ('' if none)."""
    m = _ASKED_HEAD.search(question)
    return m.group(1) if m else ""

