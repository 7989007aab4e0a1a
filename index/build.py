"""High-level index operations: build from files, keep the built-in index fresh, add/remove."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from corpus.readers import BUILTIN_DIR, load_corpus
from corpus.types import CorpusError, CorpusProblem, Document
from index.config import IndexConfig, default_index_dir
from index.embedding import get_embedder
from index.store import (
    IndexLoadError,
    StoredIndex,
    build_index,
    corpus_hash,
    load_index,
    progress,
    stored_sentence_vectors,
    stored_vectors,
)


def _load_docs(paths: Sequence[str | Path]) -> tuple[list[Document], list[CorpusProblem]]:
    result = load_corpus(paths)
    for p in result.problems:
        progress(f"skipped: {p}")
    return list(result.documents), list(result.problems)


def build_from_paths(
    paths: Sequence[str | Path], out: Path, config: IndexConfig, show_progress: bool = True
) -> dict:
    """Read, chunk, embed and write an index for the files/folders in ``paths``."""
    docs, problems = _load_docs(paths)
    if not docs:
        detail = "; ".join(str(p) for p in problems) or "no files"
        raise CorpusError(f"empty corpus: no readable documents in {list(map(str, paths))} "
                          f"({detail})")
    return _build(docs, out, config, show_progress, [str(Path(p).resolve()) for p in paths])


def _build(docs, out, config, show_progress, corpus_paths, reuse=None,
           reuse_sentences=None) -> dict:
    embedder = get_embedder(config.model)
    if show_progress:
        progress(f"embedding passages with {config.model} ...")
    return build_index(
        docs, Path(out), config,
        lambda texts: embedder.encode_passages(texts, config.batch_size, show_progress),
        embedder.dim, reuse=reuse, corpus_paths=corpus_paths, reuse_sentences=reuse_sentences,
    )


def ensure_builtin_index(path: Path | None = None, config: IndexConfig | None = None) -> Path:
    """The built-in report's index, (re)built when missing, corrupt, stale or for another model.

    This auto-rebuild is the documented behaviour for the default index only (and for the
    evaluation corpora, :func:`ensure_index`); an index named explicitly by a user is never
    rebuilt behind the user's back.
    """
    return ensure_index([BUILTIN_DIR], Path(path or default_index_dir()), config,
                        "the built-in index")


def ensure_index(paths: Sequence[Path], path: Path, config: IndexConfig | None = None,
                 label: str | None = None) -> Path:
    """The index of the files in ``paths`` at ``path``, (re)built when missing, corrupt,
    stale (the files or the chunking changed) or for another model."""
    config = config or IndexConfig()
    docs, _ = _load_docs(paths)
    reason = None
    try:
        stored = load_index(path, expect_model=config.model)
        if stored.manifest.get("corpus_hash") != corpus_hash(docs, config.chunk):
            reason = "the report or chunking changed"
    except IndexLoadError as e:
        reason = str(e).split(". Rebuild")[0]
    if reason:
        progress(f"building {label or 'the index'} at {path} ({reason}) ...")
        _build(docs, path, config, True, [str(p) for p in paths])
    return path


def add_documents(index_dir: Path, paths: Sequence[str | Path]) -> dict:
    """Add (or replace) documents; passages whose chunk id is unchanged keep their vectors."""
    stored = load_index(index_dir)
    new_docs, problems = _load_docs(paths)
    if not new_docs:
        raise CorpusError(f"nothing to add from {list(map(str, paths))}: "
                          + ("; ".join(str(p) for p in problems) or "no documents"))
    replaced = {d.id for d in new_docs}
    docs = [d for d in stored.documents if d.id not in replaced] + new_docs
    return _rebuild(stored, docs, list(stored.manifest.get("corpus_paths", []))
                    + [str(Path(p).resolve()) for p in paths])


def remove_documents(index_dir: Path, doc_ids: Sequence[str]) -> dict:
    """Remove documents by id; the other passages keep their vectors."""
    stored = load_index(index_dir)
    known = {d.id for d in stored.documents}
    unknown = [i for i in doc_ids if i not in known]
    if unknown:
        raise ValueError(f"no document with id {unknown} in {index_dir}; known: {sorted(known)}")
    docs = [d for d in stored.documents if d.id not in set(doc_ids)]
    if not docs:
        raise ValueError("removing these would leave the index empty; delete the folder instead")
    return _rebuild(stored, docs, stored.manifest.get("corpus_paths", []))


def _rebuild(stored: StoredIndex, docs: list[Document], corpus_paths: list[str]) -> dict:
    from corpus.types import ChunkConfig

    cfg = stored.manifest["config"]
    config = IndexConfig(model=cfg["model"], chunk=ChunkConfig(**cfg["chunk"]),
                         batch_size=cfg.get("batch_size", 32))
    vectors = stored_vectors(stored)
    reuse = {c.id: vectors[i] for i, c in enumerate(stored.chunks)}
    return _build(docs, stored.path, config, True, corpus_paths, reuse=reuse,
                  reuse_sentences=stored_sentence_vectors(stored))
