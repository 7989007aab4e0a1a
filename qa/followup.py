"""Chat follow-ups: ``那去年呢？`` after ``今年煤化工产值目标`` means ``去年煤化工产值目标``."""

from __future__ import annotations

import re
from collections.abc import Sequence

_YEAR_WORD = re.compile(
    r"今年|去年|明年|前年|本年|上年|(?:19|20)\d{2}年?|(?:last|this|next) year", re.I
)
_LEAD = re.compile(r"^(?:那么?|那个|还有|另外|此外|然后|再问一下|and|what about|how about)\s*",
                   re.I)
_TRAIL = re.compile(r"(?:呢|的呢|怎么样|如何|情况呢?)?[?？。!！\s]*$")
_PRONOUN_ONLY = re.compile(
    r"^(?:具体|详细|分别|都|一共|总共|这个|那个|它|这些|那些|其中|有哪些|是哪些|是什么|有什么|"
    r"是多少|多少|几个|哪几个|呢|吗|说说|讲讲|展开|what|which|how much|how many|details?|more|"
    r"[\s?？。!！,，])+$",
    re.I,
)
_QUESTION_WORDS = re.compile(r"是多少|多少|是什么|有哪些|哪些|几个|怎么样|如何|吗|呢|[?？。!！]")


def is_followup(question: str) -> bool:
    """True for a short turn that only makes sense with the previous one."""
    q = question.strip()
    if not q or len(q) > (40 if q.isascii() else 16):
        return False
    rest = _YEAR_WORD.sub("", _LEAD.sub("", q))
    rest = _TRAIL.sub("", rest)
    if not rest.strip() or _PRONOUN_ONLY.match(rest.strip()):
        return True
    return bool(_LEAD.match(q)) and len(q) <= 10


def resolve_followup(question: str, history: Sequence[str]) -> str:
    """The question as understood, given the previous questions (as understood) of the chat."""
    if not history or not is_followup(question):
        return question
    prev = history[-1].strip()
    new_year = _YEAR_WORD.search(question)
    if new_year:
        if _YEAR_WORD.search(prev):
            return _YEAR_WORD.sub(new_year.group(0), prev, count=1)
        return f"{new_year.group(0)}{prev}"
    topic = _QUESTION_WORDS.sub("", prev).strip()
    rest = _LEAD.sub("", question).strip()
    return f"{topic} {rest}".strip()
