"""What the assistant returns: an answer sentence and numbered, checkable citations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

Span = tuple[int, int]


@dataclass(frozen=True)
class Citation:
    """A cited passage: ``documents[doc_id].text[start:end] == text``."""

    number: int
    doc_id: str
    title: str
    section: str
    start: int
    end: int
    paragraph: int
    line_start: int
    line_end: int
    text: str
    chunk_id: str
    score: float
    bm25_rank: int | None
    dense_rank: int | None
    highlights: tuple[Span, ...] = ()  # matched query words, offsets within ``text``
    answer_span: Span | None = None  # the answer sentence within ``text``, if here
    key_spans: tuple[Span, ...] = ()  # key figures within ``text``

    def location(self) -> str:
        return (f"第{self.paragraph}段，字符 {self.start}–{self.end}"
                f"（原文第{self.line_start}–{self.line_end}行）")

    def as_text(self) -> str:
        """Plain-text citation staff can paste: title, section, location and the quote."""
        return (f"[{self.number}] {self.title} › {self.section}\n{self.location()}\n"
                f"「{self.text}」")


@dataclass(frozen=True)
class Answer:
    """One reply. ``answer`` is an exact substring of a cited passage, or "" when declined."""

    question: str
    understood: str
    answered: bool
    answer: str
    message: str
    citations: tuple[Citation, ...] = ()
    answer_citation: int | None = None  # number of the citation that holds ``answer``
    answer_key_spans: tuple[Span, ...] = ()  # key figures within ``answer``
    notices: tuple[str, ...] = ()
    confidence: float = 0.0
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The JSON shape shared by ``qa ask --json``, the API endpoint and run files."""
        d = asdict(self)
        d["hits"] = [
            {
                "rank": c.number, "doc_id": c.doc_id, "chunk_id": c.chunk_id,
                "title": c.title, "section": c.section, "start": c.start, "end": c.end,
                "paragraph": c.paragraph, "text": c.text, "score": c.score,
                "bm25_rank": c.bm25_rank, "dense_rank": c.dense_rank,
            }
            for c in self.citations
        ]
        return d
