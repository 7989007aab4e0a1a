"""Report files in, cleaned Documents and citable Chunks out."""

from corpus.chunking import chunk_document, chunk_documents, sentence_spans
from corpus.readers import BUILTIN_DIR, load_builtin, load_corpus, load_documents
from corpus.types import (
    Chunk,
    ChunkConfig,
    CorpusError,
    CorpusProblem,
    Document,
    Heading,
    LoadResult,
    Paragraph,
)

__all__ = [
    "BUILTIN_DIR",
    "Chunk",
    "ChunkConfig",
    "CorpusError",
    "CorpusProblem",
    "Document",
    "Heading",
    "LoadResult",
    "Paragraph",
    "chunk_document",
    "chunk_documents",
    "load_builtin",
    "load_corpus",
    "load_documents",
    "sentence_spans",
]
