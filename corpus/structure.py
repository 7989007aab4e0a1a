"""Recover the heading hierarchy of a report and the year each part speaks about.

Government work reports use ``一、`` for parts, ``（一）`` for sub-parts (as the first
sentence of a paragraph) and short lead sentences (``不遗余力抓项目。``) that open a topic.
The opening review before the first numbered part describes the year before the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.layout import LEAD_SENTENCE, LEVEL1, LEVEL2, CleanParagraph, is_heading_line
from corpus.types import Document, Heading, Paragraph

_NUMBERED3 = re.compile(r"^(?:[（(]\d{1,2}[）)]|\d{1,2}[.．、](?!\d))")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_FUTURE = re.compile(r"今后|未来|五年|十四五|远景")
_REVIEW_HINT = re.compile(r"一年来|过去一年|回顾|去年")
_FIRST_SENTENCE = re.compile(r"[^。！？!?]{1,80}[。！？!?]")


@dataclass(frozen=True)
class SectionInfo:
    """The section path and year of one paragraph."""

    path: tuple[str, ...]
    year: int | None


def year_from_title(title: str) -> int | None:
    """The report year named in a title such as ``2023年政府工作报告``."""
    m = _YEAR.search(title)
    return int(m.group(1)) if m else None


_PLAN_HEADING = re.compile(
    r"((?:19|20)\d{2})\s*年.{0,6}(?:重点工作|工作任务|工作安排|主要任务|工作建议)"
)
_PAST_YEAR = re.compile(r"过去一年|上一年|去年")


def infer_report_year(doc: Document) -> int | None:
    """A report's own year when no title names it: the year of its ``2023年重点工作任务`` part."""
    for h in doc.headings:
        m = _PLAN_HEADING.search(h.title)
        if m:
            return int(m.group(1))
    return None


def short_label(title: str, limit: int = 16) -> str:
    """A heading shortened for a section path: cut at the first comma past a few chars."""
    title = title.rstrip("。！？!?")
    if len(title) <= limit:
        return title
    cut = title.find("，", 4)
    if 0 < cut <= 30:
        return title[:cut] + "…"
    return title[:limit] + "…"


def _heading_of(p: CleanParagraph) -> tuple[int, int] | None:
    """(level, length of heading text at paragraph start) or None."""
    if p.md_level:
        return p.md_level, len(p.text)
    if is_heading_line(p.text) and LEVEL1.match(p.text):
        return 1, len(p.text)
    if LEVEL2.match(p.text):
        m = _FIRST_SENTENCE.match(p.text)
        n = m.end() - 1 if m else len(p.text)
        return 2, n
    m = LEAD_SENTENCE.match(p.text)
    if m and m.end() < len(p.text):
        return 3, m.end() - 1
    m = _NUMBERED3.match(p.text)
    if m:
        fm = _FIRST_SENTENCE.match(p.text)
        return 3, (fm.end() - 1) if fm and fm.end() <= 40 else min(len(p.text), 20)
    return None


def build_document(
    doc_id: str, title: str, source: str, year: int | None, paragraphs: list[CleanParagraph]
) -> Document:
    """Assemble a Document with paragraph offsets and headings from cleaned paragraphs."""
    text_parts: list[str] = []
    paras: list[Paragraph] = []
    heads: list[Heading] = []
    pos = 0
    for i, p in enumerate(paragraphs):
        if i:
            text_parts.append("\n")
            pos += 1
        paras.append(Paragraph(i + 1, pos, pos + len(p.text), p.line_start, p.line_end))
        h = _heading_of(p)
        if h:
            level, n = h
            heads.append(Heading(level, p.text[:n], pos, pos + n))
        text_parts.append(p.text)
        pos += len(p.text)
    return Document(
        id=doc_id,
        title=title,
        text="".join(text_parts),
        source=source,
        year=year,
        paragraphs=tuple(paras),
        headings=tuple(heads),
    )


def section_info(doc: Document) -> list[SectionInfo]:
    """Section path and year for every paragraph of ``doc`` (same order as paragraphs).

    The year of a paragraph is that of the deepest heading above it that names one
    (``一、2022年工作回顾`` → 2022; ``二、关于今后五年发展`` → none), else the document's
    default: the opening review speaks of the year before the report.
    """
    by_start = {h.start: h for h in doc.headings}
    has_parts = any(h.level == 1 for h in doc.headings)
    opening = _opening_label(doc) if has_parts else None
    stack: dict[int, str] = {}
    years: dict[int, int | None] = {}  # level -> year named by that heading (None: no year)
    default_year: int | None = None
    if opening:
        stack[1] = opening
        if doc.year and "回顾" in opening:
            years[1] = doc.year - 1
    out: list[SectionInfo] = []
    for p in doc.paragraphs:
        h = by_start.get(p.start)
        if h:
            for lvl in [k for k in stack if k >= h.level]:
                del stack[lvl]
            for lvl in [k for k in years if k >= h.level]:
                del years[lvl]
            stack[h.level] = short_label(h.title)
            named = _heading_year(h.title, doc.year)
            if named is not _NO_SIGNAL:
                years[h.level] = named
        year = years[max(years)] if years else default_year
        path = tuple(stack[k] for k in sorted(stack))
        out.append(SectionInfo(path, year))
    return out


_NO_SIGNAL = object()


def _heading_year(title: str, report_year: int | None):
    """The year a heading names, None for a multi-year outlook, ``_NO_SIGNAL`` otherwise."""
    m = _YEAR.search(title)
    if m:
        return int(m.group(1))
    if _PAST_YEAR.search(title) and report_year:
        return report_year - 1
    if _FUTURE.search(title):
        return None
    return _NO_SIGNAL


def _opening_label(doc: Document) -> str | None:
    """Label for text before the first ``一、`` part: the review of the previous year."""
    first = next(h for h in doc.headings if h.level == 1)
    if first.start == 0:
        return None
    head = doc.text[: min(first.start, 400)]
    if doc.year and _REVIEW_HINT.search(head):
        return f"{doc.year - 1}年工作回顾"
    return "开篇"
