"""Core corpus types: a cleaned document, its paragraphs and headings, and citable chunks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of the cleaned text, ``doc.text[start:end]``, and its source lines."""

    number: int  # 1-based
    start: int
    end: int
    line_start: int  # 1-based line numbers in the source file (0 when unknown)
    line_end: int


@dataclass(frozen=True)
class Heading:
    """A recovered heading; ``doc.text[start:end] == title``."""

    level: int  # 1 = 一、…  2 = （一）…  3 = lead sentence / 1. …
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """One report after layout repair; every offset in the project points into ``text``."""

    id: str
    title: str
    text: str
    source: str
    year: int | None = None
    paragraphs: tuple[Paragraph, ...] = ()
    headings: tuple[Heading, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A citable passage: ``document.text[start:end] == text`` always holds."""

    id: str
    doc_id: str
    title: str
    text: str
    start: int
    end: int
    section: tuple[str, ...]
    paragraph: int
    line_start: int
    line_end: int
    year: int | None = None  # the year the passage speaks about (review part: report year - 1)

    @property
    def section_path(self) -> str:
        return " › ".join(self.section)


@dataclass(frozen=True)
class ChunkConfig:
    """How documents are cut into passages."""

    max_chars: int = 300
    min_chars: int = 40

    def __post_init__(self) -> None:
        if self.max_chars < 50:
            raise ValueError(f"max_chars={self.max_chars} is too small; use at least 50")
        if not 0 <= self.min_chars < self.max_chars:
            raise ValueError(f"min_chars={self.min_chars} must be in [0, max_chars)")


@dataclass(frozen=True)
class CorpusProblem:
    """A file (or line) that could not be read, named with the reason."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass(frozen=True)
class LoadResult:
    """Documents that loaded and the problems met on the way (the rest still builds)."""

    documents: tuple[Document, ...]
    problems: tuple[CorpusProblem, ...] = field(default_factory=tuple)


class CorpusError(ValueError):
    """Raised when a corpus cannot be used at all (nothing readable, bad path)."""
