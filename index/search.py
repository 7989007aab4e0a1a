"""Hybrid retrieval: BM25 and dense rankings over a widened pool, fused by RRF."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from corpus.types import Chunk, Document
from index.bm25 import BM25
from index.embedding import Embedder, get_embedder
from index.fusion import RRF_K, rrf
from index.store import StoredIndex, load_index
from index.tokenizer import ChineseTokenizer
from index.types import Hit

RETRIEVERS = ("hybrid", "bm25", "dense")
DEFAULT_POOL = 50


class HybridIndex:
    """A loaded index: passages, BM25 over jieba tokens, faiss vectors and the query model."""

    def __init__(self, stored: StoredIndex, embedder: Embedder | None = None) -> None:
        self.stored = stored
        self.manifest = stored.manifest
        self.chunks: tuple[Chunk, ...] = stored.chunks
        self.documents: dict[str, Document] = {d.id: d for d in stored.documents}
        self.tokenizer = ChineseTokenizer(stored.terms)
        self.bm25 = BM25(stored.tokens)
        self._faiss = stored.vectors_index
        # one query vector at a time: OpenMP threads cost more than they save (eval/bench)
        import faiss

        faiss.omp_set_num_threads(1)
        self._embedder = embedder
        self.position = {c.id: i for i, c in enumerate(self.chunks)}
        self._background: np.ndarray | None = None
        # each passage's sentences: rows of ``sentence_vectors`` (none for an index held
        # only in memory, e.g. the synthetic one of eval bench)
        self.sentence_vectors = stored.sentence_vectors
        self.sentence_rows: dict[tuple[int, int, int], int] = {}
        row = 0
        for pos, spans in enumerate(stored.sentence_spans):
            for a, b in spans:
                self.sentence_rows[(pos, a, b)] = row
                row += 1

    @classmethod
    def load(cls, path: Path, embedder: Embedder | None = None) -> HybridIndex:
        return cls(load_index(path), embedder)

    @property
    def embedder(self) -> Embedder:
        """The query model named in the manifest, loaded on first use."""
        if self._embedder is None:
            self._embedder = get_embedder(self.manifest["model"])
        return self._embedder

    def bm25_ranking(self, query: str, n: int) -> list[tuple[int, float]]:
        return self.bm25.top(self.tokenizer.tokenize(query), n)

    def embed_query(self, query: str) -> np.ndarray:
        return self.embedder.encode_queries([query])[0]

    def dense_ranking(self, qvec: np.ndarray, n: int) -> list[tuple[int, float]]:
        n = min(n, len(self.chunks))
        if n <= 0:
            return []
        scores, ids = self._faiss.search(qvec.reshape(1, -1).astype(np.float32), n)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def background_similarity(self, qvec: np.ndarray, size: int = 256) -> float:
        """Mean cosine of the query with an evenly spaced sample of passages.

        A reference for "how similar is an unrelated passage" that does not depend on how
        many passages the corpus has (unlike the similarity of the runner-up candidates).
        """
        if self._background is None:
            n = len(self.chunks)
            step = max(1, n // size)
            self._background = self.passage_vectors(range(0, n, step)[:size])
        return float((self._background @ qvec).mean())

    def passage_vectors(self, positions: Sequence[int]) -> np.ndarray:
        """Stored vectors of the given passages (for reranking inside a candidate pool)."""
        return np.stack([self._faiss.reconstruct(int(i)) for i in positions])

    def search(
        self,
        query: str,
        k: int = 10,
        retriever: str = "hybrid",
        pool: int = DEFAULT_POOL,
        rrf_k: int = RRF_K,
    ) -> list[Hit]:
        """Top ``k`` passages for ``query`` by one retriever or by their RRF fusion."""
        if retriever not in RETRIEVERS:
            raise ValueError(f"unknown retriever {retriever!r}; choose one of {RETRIEVERS}")
        if not query.strip():
            raise ValueError("empty question")
        pool = max(pool, k)
        sparse = self.bm25_ranking(query, pool) if retriever != "dense" else []
        dense = self.dense_ranking(self.embed_query(query), pool) if retriever != "bm25" else []
        return self.fuse(sparse, dense, k, retriever, rrf_k)

    def fuse(
        self,
        sparse: list[tuple[int, float]],
        dense: list[tuple[int, float]],
        k: int,
        retriever: str = "hybrid",
        rrf_k: int = RRF_K,
    ) -> list[Hit]:
        """Hits from precomputed rankings, keeping each retriever's rank and score."""
        s_rank = {i: (r, s) for r, (i, s) in enumerate(sparse, 1)}
        d_rank = {i: (r, s) for r, (i, s) in enumerate(dense, 1)}
        if retriever == "bm25":
            order = sparse
        elif retriever == "dense":
            order = dense
        else:
            order = rrf([[i for i, _ in sparse], [i for i, _ in dense]], k=rrf_k)
        hits = []
        for rank, (i, score) in enumerate(order[:k], 1):
            sr, dr = s_rank.get(i), d_rank.get(i)
            hits.append(Hit(
                chunk=self.chunks[i], rank=rank, score=float(score),
                bm25_rank=sr[0] if sr else None, dense_rank=dr[0] if dr else None,
                bm25_score=sr[1] if sr else None, dense_score=dr[1] if dr else None,
            ))
        return hits
