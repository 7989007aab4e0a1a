"""Build, save and load an index folder: plain JSON/JSONL plus a faiss file, no pickles.

Folder layout::

    manifest.json     format version, model, chunking, corpus hash, counts
    documents.jsonl   cleaned documents (text, paragraphs, headings) for context views
    chunks.jsonl      passages with offsets, section path, year
    tokens.jsonl      BM25 tokens per passage (jieba, same tokenizer at query time)
    terms.txt         corpus-derived terms added to the tokenizer
    dense.faiss       normalised passage vectors (inner product)
    sentences.jsonl   each passage's sentence spans (offsets within the passage)
    sentences.faiss   normalised vectors of those sentences, in passage order

Writes go to a temporary sibling folder that is renamed into place, so an interrupted
build leaves the previous index usable.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from corpus.chunking import chunk_documents, sentence_spans
from corpus.types import Chunk, ChunkConfig, Document, Heading, Paragraph
from index.config import IndexConfig
from index.tokenizer import vocabulary_hash

FORMAT_VERSION = 2  # 2: sentence vectors
_FILES = ("manifest.json", "documents.jsonl", "chunks.jsonl", "tokens.jsonl", "terms.txt",
          "dense.faiss", "sentences.jsonl", "sentences.faiss")
HNSW_THRESHOLD = 50_000  # above this many passages a flat scan gets slow; see README


class IndexLoadError(RuntimeError):
    """The index folder is missing, corrupt, stale or incompatible; the message says the fix."""


@dataclass(frozen=True)
class StoredIndex:
    """Everything an index folder holds, loaded into memory."""

    path: Path
    manifest: dict
    documents: tuple[Document, ...]
    chunks: tuple[Chunk, ...]
    tokens: tuple[tuple[str, ...], ...]
    terms: tuple[str, ...]
    vectors_index: object  # faiss.Index
    sentence_spans: tuple[tuple[tuple[int, int], ...], ...] = ()  # per passage, in its text
    sentence_vectors: np.ndarray | None = None  # one row per span, in passage order


def rebuild_hint(path: Path) -> str:
    return f"Rebuild it: python -m index build --out {path} [--corpus PATH ...]"


def corpus_hash(docs: Sequence[Document], chunk: ChunkConfig) -> str:
    """Hash of what the index depends on: document ids, titles, texts and chunking."""
    h = hashlib.sha256()
    h.update(json.dumps(asdict(chunk), sort_keys=True).encode())
    for d in docs:
        for part in (d.id, d.title, str(d.year), d.text):
            h.update(part.encode("utf-8"))
            h.update(b"\x1f")
    return h.hexdigest()


def document_hash(doc: Document) -> str:
    key = f"{doc.id}\x1f{doc.title}\x1f{doc.year}\x1f{doc.text}"
    return hashlib.sha256(key.encode()).hexdigest()


def index_text(chunk: Chunk) -> str:
    """What retrievers see for a passage: its innermost section label and its text."""
    label = chunk.section[-1] if chunk.section else ""
    return f"{label}\n{chunk.text}" if label else chunk.text


def _doc_to_json(d: Document) -> dict:
    return asdict(d)


def _doc_from_json(o: dict) -> Document:
    return Document(
        id=o["id"],
        title=o["title"],
        text=o["text"],
        source=o["source"],
        year=o.get("year"),
        paragraphs=tuple(Paragraph(**p) for p in o["paragraphs"]),
        headings=tuple(Heading(**h) for h in o["headings"]),
    )


def _chunk_from_json(o: dict) -> Chunk:
    o = dict(o)
    o["section"] = tuple(o["section"])
    return Chunk(**o)


def _write_jsonl(path: Path, rows: Sequence[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def make_faiss_index(vectors: np.ndarray):
    """Exact inner-product index; HNSW above ``HNSW_THRESHOLD`` passages (approximate)."""
    import faiss

    dim = vectors.shape[1]
    if len(vectors) > HNSW_THRESHOLD:
        idx = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        idx.hnsw.efConstruction = 80
        idx.hnsw.efSearch = 128
    else:
        idx = faiss.IndexFlatIP(dim)
    if len(vectors):
        idx.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return idx


def stored_vectors(stored: StoredIndex) -> np.ndarray:
    """The passage vectors back out of the faiss index (for incremental updates)."""
    return _all_vectors(stored.vectors_index)


def _all_vectors(idx) -> np.ndarray:
    n = idx.ntotal
    return idx.reconstruct_n(0, n) if n else np.zeros((0, idx.d), dtype=np.float32)


def stored_sentence_vectors(stored: StoredIndex) -> dict[str, np.ndarray]:
    """Chunk id -> its sentences' vectors (for incremental updates)."""
    out, row = {}, 0
    vecs = stored.sentence_vectors
    for c, spans in zip(stored.chunks, stored.sentence_spans, strict=True):
        out[c.id] = vecs[row:row + len(spans)]
        row += len(spans)
    return out


def build_index(
    docs: Sequence[Document],
    out: Path,
    config: IndexConfig,
    embed_passages: Callable[[list[str]], np.ndarray],
    model_dim: int,
    reuse: dict[str, np.ndarray] | None = None,
    corpus_paths: Sequence[str] = (),
    reuse_sentences: dict[str, np.ndarray] | None = None,
) -> dict:
    """Chunk, tokenize and embed ``docs`` and their passages' sentences, and write the
    index folder atomically.

    ``reuse`` maps chunk id -> vector for passages already embedded (``index add``), and
    ``reuse_sentences`` chunk id -> its sentences' vectors. Returns the manifest.
    """
    from index.tokenizer import ChineseTokenizer, corpus_terms

    if not docs:
        raise ValueError("cannot build an index from an empty corpus: no documents")
    t0 = time.perf_counter()
    chunks = chunk_documents(list(docs), config.chunk)
    if not chunks:
        raise ValueError("the corpus has no text to index (every document is empty)")
    terms = corpus_terms(d.text for d in docs)
    tok = ChineseTokenizer(terms)
    tokens = [tok.tokenize(index_text(c)) for c in chunks]
    reuse = reuse or {}
    todo = [i for i, c in enumerate(chunks) if c.id not in reuse]
    vectors = np.zeros((len(chunks), model_dim), dtype=np.float32)
    for i, c in enumerate(chunks):
        if c.id in reuse:
            vectors[i] = reuse[c.id]
    # a long passage's embedding blurs a one-sentence answer inside it: the model also
    # reads every sentence on its own
    spans = [tuple(sentence_spans(c.text)) for c in chunks]
    reuse_sentences = reuse_sentences or {}
    sent_todo = [i for i, c in enumerate(chunks)
                 if len(reuse_sentences.get(c.id, ())) != len(spans[i])]
    t1 = time.perf_counter()
    if todo:
        vectors[todo] = embed_passages([index_text(chunks[i]) for i in todo])
    texts = [chunks[i].text[a:b] for i in sent_todo for a, b in spans[i]]
    fresh = iter(embed_passages(texts) if texts else ())
    sent_vectors = np.zeros((sum(len(x) for x in spans), model_dim), dtype=np.float32)
    row, todo_set = 0, set(sent_todo)
    for i, c in enumerate(chunks):
        n = len(spans[i])
        if i in todo_set:
            sent_vectors[row:row + n] = [next(fresh) for _ in range(n)]
        elif n:
            sent_vectors[row:row + n] = reuse_sentences[c.id]
        row += n
    t2 = time.perf_counter()
    manifest = {
        "format": FORMAT_VERSION,
        "model": config.model,
        "dim": model_dim,
        "config": config.to_json(),
        "corpus_hash": corpus_hash(docs, config.chunk),
        "corpus_paths": list(corpus_paths),
        "documents": [
            {"id": d.id, "title": d.title, "year": d.year, "source": d.source,
             "sha256": document_hash(d), "chunks": sum(1 for c in chunks if c.doc_id == d.id)}
            for d in docs
        ],
        "counts": {"documents": len(docs), "chunks": len(chunks),
                   "sentences": len(sent_vectors)},
        "tokenizer": "jieba cut_for_search + shipped and corpus terms, stop words removed",
        "vocabulary": vocabulary_hash(),
        "dense_index": "hnsw" if len(chunks) > HNSW_THRESHOLD else "flat",
        "timings": {"prepare_s": round(t1 - t0, 3), "embed_s": round(t2 - t1, 3),
                    "embedded": len(todo), "reused": len(chunks) - len(todo),
                    "sentences_embedded": len(texts)},
    }
    _write_folder(out, manifest, docs, chunks, tokens, terms, vectors, spans, sent_vectors)
    return manifest


def _write_folder(out: Path, manifest: dict, docs, chunks, tokens, terms, vectors, spans,
                  sent_vectors) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        _fill_folder(tmp, manifest, docs, chunks, tokens, terms, vectors, spans, sent_vectors)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _fill_folder(tmp: Path, manifest: dict, docs, chunks, tokens, terms, vectors, spans,
                 sent_vectors) -> None:
    import faiss

    _write_jsonl(tmp / "documents.jsonl", [_doc_to_json(d) for d in docs])
    _write_jsonl(tmp / "chunks.jsonl", [asdict(c) for c in chunks])
    rows = [{"id": c.id, "tokens": t} for c, t in zip(chunks, tokens, strict=True)]
    _write_jsonl(tmp / "tokens.jsonl", rows)
    (tmp / "terms.txt").write_text("".join(t + "\n" for t in terms), encoding="utf-8")
    faiss.write_index(make_faiss_index(vectors), str(tmp / "dense.faiss"))
    _write_jsonl(tmp / "sentences.jsonl", [{"id": c.id, "spans": [list(x) for x in sp]}
                                           for c, sp in zip(chunks, spans, strict=True)])
    flat = faiss.IndexFlatIP(sent_vectors.shape[1])
    if len(sent_vectors):
        flat.add(np.ascontiguousarray(sent_vectors, dtype=np.float32))
    faiss.write_index(flat, str(tmp / "sentences.faiss"))
    (tmp / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8"
    )


def load_index(path: Path, expect_model: str | None = None) -> StoredIndex:
    """Load and check an index folder; raise ``IndexLoadError`` naming the problem and fix."""
    import faiss

    path = Path(path)
    if not (path / "manifest.json").is_file():
        raise IndexLoadError(f"No index at {path} (manifest.json missing). {rebuild_hint(path)}")
    missing = [f for f in _FILES if not (path / f).is_file()]
    if missing:
        raise IndexLoadError(f"Index at {path} is incomplete: {missing} missing. "
                             f"{rebuild_hint(path)}")
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexLoadError(
                f"Index at {path} has format {manifest.get('format')!r}, this version reads "
                f"{FORMAT_VERSION}. {rebuild_hint(path)}"
            )
        if expect_model and manifest.get("model") != expect_model:
            raise IndexLoadError(
                f"Index at {path} was built with model {manifest.get('model')!r}, not "
                f"{expect_model!r}. {rebuild_hint(path)} --model {expect_model}"
            )
        if manifest.get("vocabulary") != vocabulary_hash():
            raise IndexLoadError(
                f"Index at {path} was tokenized with another vocabulary (the shipped "
                f"terms, stop words, tokenizer rules or jieba version changed since it was "
                f"built). "
                f"{rebuild_hint(path)}"
            )
        docs = tuple(_doc_from_json(o) for o in _read_jsonl(path / "documents.jsonl"))
        chunks = tuple(_chunk_from_json(o) for o in _read_jsonl(path / "chunks.jsonl"))
        tok_rows = _read_jsonl(path / "tokens.jsonl")
        terms = tuple(
            x for x in (path / "terms.txt").read_text(encoding="utf-8").splitlines() if x
        )
        vindex = faiss.read_index(str(path / "dense.faiss"))
        sent_rows = _read_jsonl(path / "sentences.jsonl")
        sent_spans = tuple(tuple((int(a), int(b)) for a, b in r["spans"]) for r in sent_rows)
        sent_vectors = _all_vectors(faiss.read_index(str(path / "sentences.faiss")))
    except IndexLoadError:
        raise
    except (ValueError, KeyError, TypeError, RuntimeError, UnicodeDecodeError) as e:
        raise IndexLoadError(f"Index at {path} is corrupt ({type(e).__name__}: {e}). "
                             f"{rebuild_hint(path)}") from None
    counts = manifest.get("counts", {})
    problems = []
    if len(chunks) != counts.get("chunks") or len(docs) != counts.get("documents"):
        problems.append("counts differ from the manifest")
    if [r.get("id") for r in tok_rows] != [c.id for c in chunks]:
        problems.append("tokens.jsonl does not match chunks.jsonl")
    if vindex.ntotal != len(chunks) or vindex.d != manifest.get("dim"):
        problems.append("dense.faiss does not match chunks.jsonl")
    if ([r.get("id") for r in sent_rows] != [c.id for c in chunks]
            or any(not 0 <= a < b <= len(c.text)
                   for c, sp in zip(chunks, sent_spans, strict=True) for a, b in sp)):
        problems.append("sentences.jsonl does not match chunks.jsonl")
    elif (len(sent_vectors) != sum(len(x) for x in sent_spans)
          or sent_vectors.shape[1] != manifest.get("dim")):
        problems.append("sentences.faiss does not match sentences.jsonl")
    doc_text = {d.id: d.text for d in docs}
    if any(doc_text.get(c.doc_id, "")[c.start:c.end] != c.text for c in chunks):
        problems.append("a passage's offsets do not match its document text")
    if problems:
        raise IndexLoadError(f"Index at {path} is corrupt: {'; '.join(problems)}. "
                             f"{rebuild_hint(path)}")
    return StoredIndex(path, manifest, docs, chunks,
                       tuple(tuple(r["tokens"]) for r in tok_rows), terms, vindex,
                       sent_spans, sent_vectors)


def is_stale(stored: StoredIndex, docs: Sequence[Document]) -> bool:
    """True when ``docs`` (with the stored chunking) differ from what the index was built on."""
    chunk = ChunkConfig(**stored.manifest["config"]["chunk"])
    return corpus_hash(docs, chunk) != stored.manifest.get("corpus_hash")


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
