"""Cut documents into citable passages of whole sentences within one paragraph."""

from __future__ import annotations

import hashlib
import math
import re

from corpus.structure import section_info
from corpus.types import Chunk, ChunkConfig, Document

# A sentence ends at 。！？； (with closing quotes kept) or at ". " before a capital in English.
_SENT_END = re.compile(r"[。！？!?；;…]+[”’」』）)》\"']*|\.(?=\s+[A-Z\"“])[\"”']*")
_SOFT_BREAK = re.compile(r"[，,、：:]")


def chunk_id(doc_id: str, start: int, end: int, text: str) -> str:
    """Stable id from document id, offsets and content: rebuilding gives identical ids."""
    h = hashlib.sha1(f"{doc_id}\x1f{start}\x1f{end}\x1f{text}".encode()).hexdigest()
    return h[:16]


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of whole sentences in ``text[start:end]``, whitespace trimmed, none empty."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _SENT_END.finditer(text, start, end):
        spans.append((pos, m.end()))
        pos = m.end()
    if pos < end:
        spans.append((pos, end))
    return [s for s in (_trim(text, a, b) for a, b in spans) if s[1] > s[0]]


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _split_long(text: str, a: int, b: int, limit: int) -> list[tuple[int, int]]:
    """Split one over-long sentence at commas, or hard-cut when there are none."""
    out: list[tuple[int, int]] = []
    while b - a > limit:
        cut = -1
        for m in _SOFT_BREAK.finditer(text, a, a + limit):
            if m.end() - a >= limit // 3:
                cut = m.end()
        if cut < 0:
            cut = a + limit
        out.append((a, cut))
        a = cut
    out.append((a, b))
    return [s for s in (_trim(text, x, y) for x, y in out) if s[1] > s[0]]


def pack_spans(
    spans: list[tuple[int, int]], max_chars: int, min_chars: int
) -> list[tuple[int, int]]:
    """Group consecutive sentence spans into balanced passages of at most ``max_chars``."""
    if not spans:
        return []
    total = spans[-1][1] - spans[0][0]
    n = max(1, math.ceil(total / max_chars))
    target = total / n
    groups: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    for s in spans:
        if cur is None:
            cur = s
            continue
        merged = (cur[0], s[1])
        length = cur[1] - cur[0]
        if merged[1] - merged[0] > max_chars or length >= target:
            groups.append(cur)
            cur = s
        else:
            cur = merged
    assert cur is not None
    last_len = cur[1] - cur[0]
    if groups and last_len < min_chars and cur[1] - groups[-1][0] <= max_chars:
        groups[-1] = (groups[-1][0], cur[1])
    else:
        groups.append(cur)
    return groups


def chunk_document(doc: Document, config: ChunkConfig | None = None) -> list[Chunk]:
    """Passages of ``doc`` in reading order; heading-only paragraphs are not passages."""
    config = config or ChunkConfig()
    infos = section_info(doc)
    heading_paras = {h.start for h in doc.headings if h.end - h.start == _para_len(doc, h.start)}
    chunks: list[Chunk] = []
    for para, info in zip(doc.paragraphs, infos, strict=True):
        if para.start in heading_paras or doc.text[para.start:para.end] == doc.title:
            continue
        spans: list[tuple[int, int]] = []
        for a, b in sentence_spans(doc.text, para.start, para.end):
            spans.extend(_split_long(doc.text, a, b, config.max_chars))
        for a, b in pack_spans(spans, config.max_chars, config.min_chars):
            text = doc.text[a:b]
            chunks.append(
                Chunk(
                    id=chunk_id(doc.id, a, b, text),
                    doc_id=doc.id,
                    title=doc.title,
                    text=text,
                    start=a,
                    end=b,
                    section=info.path,
                    paragraph=para.number,
                    line_start=para.line_start,
                    line_end=para.line_end,
                    year=info.year,
                )
            )
    return chunks


def _para_len(doc: Document, start: int) -> int:
    end = doc.text.find("\n", start)
    return (len(doc.text) if end < 0 else end) - start


def chunk_documents(docs: list[Document], config: ChunkConfig | None = None) -> list[Chunk]:
    """Chunks of all documents, in corpus order."""
    out: list[Chunk] = []
    for d in docs:
        out.extend(chunk_document(d, config))
    return out
