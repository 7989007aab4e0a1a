"""Layout repair: newspaper/PDF text with hard-wrapped lines becomes real paragraphs.

Chinese has no spaces, so wrapped lines are joined with nothing. A paragraph ends at a
blank line that follows sentence-final punctuation, at a heading, or before a line that
opens with a short topic sentence (``精准发力抓消费。``). Page-continuation markers such as
``（上接第一版）`` are not content and are removed.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass

PAGE_MARKER = re.compile(
    r"[（(]\s*(?:上接|下转|接上|转下|紧接|接|转)\s*第?\s*[一二三四五六七八九十百\d]+\s*版\s*[）)]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
TERMINAL = "。！？!?；;…"
CLOSERS = "”’」』）)》〉】\"'"
LEVEL1 = re.compile(r"^[一二三四五六七八九十]+、")
LEVEL2 = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")
MD_HEADING = re.compile(r"^#{1,6}[ \t]+")
LEAD_SENTENCE = re.compile(r"^[^，,；;：:。！？“”\"]{3,20}。")


@dataclass(frozen=True)
class CleanParagraph:
    """Paragraph text with the 1-based source lines it spans."""

    text: str
    line_start: int
    line_end: int
    md_level: int = 0  # Markdown heading level (``## x`` -> 2), 0 for ordinary text


def ends_sentence(line: str) -> bool:
    """True when a line ends with sentence-final punctuation (closing quotes allowed)."""
    s = line.rstrip(CLOSERS)
    return bool(s) and s[-1] in TERMINAL


def is_heading_line(line: str) -> bool:
    """A short line that is a heading on its own: ``二、关于今后五年发展`` or ``# 标题``."""
    if MD_HEADING.match(line):
        return True
    return bool(LEVEL1.match(line)) and len(line) <= 40 and not ends_sentence(line)


def _display_width(s: str) -> float:
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in s)


def is_hard_wrapped(lines: list[str]) -> bool:
    """Detect column layout: most lines have nearly the same (short) display width."""
    widths = [_display_width(x) for x in lines if x.strip()]
    if len(widths) < 8:
        return False
    med = statistics.median(widths)
    if med > 60:
        return False
    near = sum(1 for w in widths if abs(w - med) <= 3)
    return near / len(widths) >= 0.6


def _join(a: str, b: str) -> str:
    """Join a wrapped line: nothing between CJK, a space only between two Latin words."""
    if a and b and a[-1].isascii() and a[-1].isalpha() and b[0].isascii() and b[0].isalpha():
        return a + " " + b
    return a + b


def normalise_line(line: str) -> str:
    """Strip indentation, control characters and page markers from one source line."""
    line = _CONTROL.sub("", line)
    line = PAGE_MARKER.sub("", line)
    return line.strip(" \t\r\u3000\xa0")


def repair_layout(
    raw: str, first_line: int = 1, hard_wrapped: bool | None = None
) -> list[CleanParagraph]:
    """Turn raw text into paragraphs; ``first_line`` is the source line number of ``raw[0]``.

    ``hard_wrapped`` says whether lines are a column layout to re-join (None: detect it);
    sources with real paragraphs (DOCX) pass False.
    """
    raw_lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = [normalise_line(x) for x in raw_lines]
    wrapped = is_hard_wrapped(lines) if hard_wrapped is None else hard_wrapped
    widths = [_display_width(x) for x in lines if x]
    full = statistics.median(widths) if widths else 0.0
    paragraphs: list[CleanParagraph] = []
    buf = ""
    start_line = 0
    last_line = 0
    blank_before = False

    def flush(md_level: int = 0) -> None:
        nonlocal buf
        if buf.strip():
            paragraphs.append(CleanParagraph(buf.strip(), start_line, last_line, md_level))
        buf = ""

    prev = ""
    for i, line in enumerate(lines):
        lineno = first_line + i
        if not line:
            blank_before = True
            continue
        # in a column layout, a line that ends a sentence well short of the column width
        # ends its paragraph (PDF text has no blank lines between paragraphs)
        short_end = wrapped and ends_sentence(prev) and _display_width(prev) < full - 3
        if buf and (short_end or _starts_new_paragraph(buf, line, blank_before, wrapped)):
            flush()
        prev = line
        md = MD_HEADING.match(line)
        if md:
            flush()
            start_line = last_line = lineno
            buf = line[md.end():]
            flush(md.group().count("#"))
            blank_before = False
            continue
        if not buf:
            start_line = lineno
            buf = line
        else:
            buf = _join(buf, line)
        last_line = lineno
        blank_before = False
        if is_heading_line(line):
            flush()
    flush()
    return paragraphs


def _starts_new_paragraph(buf: str, line: str, blank_before: bool, wrapped: bool) -> bool:
    if is_heading_line(line):
        return True  # a short ``二、…`` line is a heading even after a title line
    if LEVEL2.match(line):
        return ends_sentence(buf) or blank_before or not wrapped
    if not wrapped:
        return True  # one paragraph per line in ordinary text files
    if not ends_sentence(buf):
        return False  # mid-sentence: a wrapped line (even across a blank line)
    return blank_before or bool(LEAD_SENTENCE.match(line))


def clean_text(paragraphs: list[CleanParagraph]) -> str:
    """The cleaned document text: paragraphs separated by one newline."""
    return "\n".join(p.text for p in paragraphs)
