"""Performance benchmark: each figure beside the floor it cannot beat, measured in the same run.

Figures and floors:

* index build on the built-in report  vs  embedding the same passage texts with the model alone;
* question latency (``QAEngine.ask``, warm)  vs  embedding the same question alone;
* cold start of ``app.py`` (spawn to first answer)  vs  a process that only loads the model and
  embeds one question;
* peak memory (VmHWM)  vs  that model-alone process: the app against its peak after one
  question, the build against its peak after also embedding the report's passages;
* the scaling curve at 1k / 10k / 100k synthetic passages (BM25, dense, hybrid latency and
  memory), whose floor is the 1k figure.

Peak memory is read from /proc (VmHWM) rather than ``ru_maxrss``: Linux carries a parent's RSS
at fork over into a spawned child's ``ru_maxrss``, which made the model-alone floor wrong.

The scaling corpus is synthetic: sentences of the real report recombined, 2-4 per passage.
Embedding 100k passages with the real model would take hours on 2 cores, so each synthetic
passage gets the normalised sum of its sentences' real embeddings (the sentences are embedded
once, with the real model, at bench time), and its BM25 tokens are the concatenation of its
sentences' jieba tokens (tokenised once; checked equal to tokenising the joined text).

Everything here returns plain dicts that ``eval.cli_bench`` writes as JSON and Markdown.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BUILD_TARGET = 1.3  # build time <= 1.3 x bare embedding time
QUERY_TARGET = 1.5  # question p50 <= 1.5 x bare query-embedding p50
SCALING_TARGET = 3.0  # p50 at the largest size <= 3 x the p50 at the smallest
SCALING_SIZES = (1_000, 10_000, 100_000)
QUICK_SCALING_SIZES = (500, 1_000, 2_000)
RECALL_K = 10
LIBRARIES = ("torch", "sentence-transformers", "transformers", "faiss-cpu", "numpy", "rank-bm25",
             "jieba", "gradio", "gradio_client")


# ----- small helpers ------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (linear interpolation); NaN for no values."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else \
        float("nan")


def summary_ms(seconds: Sequence[float]) -> dict:
    """p50 / p95 / mean / max in milliseconds of latencies given in seconds."""
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 4),
            "p95_ms": round(percentile(ms, 95), 4),
            "mean_ms": round(statistics.fmean(ms), 4) if ms else float("nan"),
            "max_ms": round(max(ms), 4) if ms else float("nan")}


def ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or floor is None or not floor or value != value or floor != floor:
        return None
    return round(value / floor, 3)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (VmHWM; ru_maxrss as a fallback)."""
    hwm = _proc_status_mb("self", "VmHWM")
    return hwm if hwm is not None else \
        round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def current_rss_mb(pid: int | str = "self") -> float | None:
    return _proc_status_mb(pid, "VmRSS")


def process_peak_rss_mb(pid: int) -> float | None:
    """Peak RSS (VmHWM) of another live process, from /proc."""
    return _proc_status_mb(pid, "VmHWM")


def _proc_status_mb(pid, field: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        return None
    return None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                             timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def machine_info() -> dict:
    """What the figures were measured on: CPUs, RAM, load, Python, libraries, git commit."""
    from importlib import metadata

    versions = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            versions[lib] = None
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "nproc": usable,
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "ram_gb": _ram_gb(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "libraries": versions,
        "torch_threads": _torch_threads(),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def _torch_threads() -> int | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.get_num_threads()


# ----- build ----------------------------------------------------------------------------------
def builtin_index_texts(config=None) -> list[str]:
    """The texts the built-in report's index embeds: ``index_text`` of each passage, then
    each passage's sentences."""
    from corpus.chunking import chunk_documents, sentence_spans
    from corpus.readers import BUILTIN_DIR, load_corpus
    from index.config import IndexConfig
    from index.store import index_text

    config = config or IndexConfig()
    docs = list(load_corpus([BUILTIN_DIR]).documents)
    chunks = chunk_documents(docs, config.chunk)
    return ([index_text(c) for c in chunks]
            + [c.text[a:b] for c in chunks for a, b in sentence_spans(c.text)])


def bench_build(repeats: int = 3) -> dict:
    """Index build of the built-in report vs embedding the same texts alone, alternately.

    Both use the already-loaded model (``get_embedder`` caches it), so neither pays model
    loading. Medians over ``repeats`` alternating pairs reduce the noise of a shared machine.
    """
    from corpus.readers import BUILTIN_DIR
    from index.build import build_from_paths
    from index.config import IndexConfig
    from index.embedding import get_embedder

    config = IndexConfig()
    embedder = get_embedder(config.model)
    texts = builtin_index_texts(config)
    embedder.encode_passages(texts[:4], config.batch_size)  # warm-up (first call is slower)
    runs = []
    with tempfile.TemporaryDirectory(prefix="gwr-bench-build-") as tmp:
        for i in range(repeats):
            t0 = time.perf_counter()
            embedder.encode_passages(texts, config.batch_size)
            bare = time.perf_counter() - t0
            t0 = time.perf_counter()
            manifest = build_from_paths([BUILTIN_DIR], Path(tmp) / f"index-{i}", config,
                                        show_progress=False)
            build = time.perf_counter() - t0
            timings = manifest.get("timings", {})
            runs.append({"bare_embed_s": round(bare, 3), "build_s": round(build, 3),
                         "build_embed_s": timings.get("embed_s"),
                         "build_prepare_s": timings.get("prepare_s")})
    n = len(texts)
    build_s = statistics.median(r["build_s"] for r in runs)
    bare_s = statistics.median(r["bare_embed_s"] for r in runs)
    embed_in_build = statistics.median(r["build_embed_s"] or 0.0 for r in runs)
    return {
        "chunks": n,
        "chars": sum(len(t) for t in texts),
        "model": config.model,
        "repeats": repeats,
        "runs": runs,
        "build_s": round(build_s, 3),
        "bare_embed_s": round(bare_s, 3),
        "ratio": ratio(build_s, bare_s),
        "target_ratio": BUILD_TARGET,
        "pass": build_s <= BUILD_TARGET * bare_s,
        "throughput_chunks_per_s": round(n / build_s, 2),
        "bare_throughput_chunks_per_s": round(n / bare_s, 2),
        "non_embedding_s": round(build_s - embed_in_build, 3),
    }


# ----- question latency -----------------------------------------------------------------------
def load_question_texts(limit: int | None = None) -> list[str]:
    from eval.runner import BUILTIN_QUESTIONS
    from eval.scoring import load_questions

    qs = [it.question for it in load_questions(BUILTIN_QUESTIONS)]
    return qs[:limit] if limit else qs


def bench_queries(questions: Sequence[str], warmup: int = 20) -> dict:
    """Warm ``QAEngine.ask`` per question vs ``encode_queries([q])`` alone, interleaved."""
    from index.build import ensure_builtin_index
    from index.embedding import get_embedder
    from index.search import HybridIndex
    from index.store import load_index
    from qa.engine import QAEngine
    from qa.lexicon import load as load_dictionary

    stored = load_index(ensure_builtin_index())
    embedder = get_embedder(stored.manifest["model"])
    index = HybridIndex(stored, embedder)  # the same loaded model the bare floor uses
    engine = QAEngine(index)
    load_dictionary()  # as the app does at startup
    for q in questions[:warmup]:
        engine.ask(q)
        embedder.encode_queries([q])
    ask_s, bare_s = [], []
    for q in questions:
        t0 = time.perf_counter()
        engine.ask(q)
        ask_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        embedder.encode_queries([q])
        bare_s.append(time.perf_counter() - t0)
    ask, bare = summary_ms(ask_s), summary_ms(bare_s)
    rest = [a - b for a, b in zip(ask_s, bare_s, strict=True)]
    return {
        "questions": len(questions),
        "chunks": len(index.chunks),
        "warmup": min(warmup, len(questions)),
        "ask": ask,
        "bare_query_embed": bare,
        "p50_ms": ask["p50_ms"],
        "p95_ms": ask["p95_ms"],
        "bare_p50_ms": bare["p50_ms"],
        "bare_p95_ms": bare["p95_ms"],
        "ratio_p50": ratio(ask["p50_ms"], bare["p50_ms"]),
        "ratio_p95": ratio(ask["p95_ms"], bare["p95_ms"]),
        "target_ratio": QUERY_TARGET,
        "pass": ask["p50_ms"] <= QUERY_TARGET * bare["p50_ms"],
        "non_embedding_p50_ms": round(percentile([r * 1000 for r in rest], 50), 3),
    }


# ----- floors in a fresh process: model alone -------------------------------------------------
_FLOOR_SCRIPT = r"""
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from index.config import IndexConfig
from index.embedding import get_embedder


def hwm():  # VmHWM, not ru_maxrss: Linux carries the parent's RSS at fork over into the latter
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return -1.0


e = get_embedder(IndexConfig().model)
e.encode_queries([sys.argv[1]])
print("READY", time.perf_counter() - t0, hwm(), flush=True)
texts = json.loads(sys.stdin.read())
e.encode_passages(texts)
print("RSS", hwm(), flush=True)
"""


def model_alone(question: str, texts: Sequence[str], timeout: float = 600.0) -> dict:
    """Spawn a process that loads the model and embeds one question (cold-start and app
    memory floor), then embeds ``texts`` (build memory floor): the model alone, nothing else."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _FLOOR_SCRIPT, question], cwd=REPO, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    ready = rss_query = rss = None
    try:
        assert proc.stdin is not None and proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("READY"):
                ready = time.perf_counter() - t0
                rss_query = float(line.split()[2])
                proc.stdin.write(json.dumps(list(texts), ensure_ascii=False))
                proc.stdin.close()
            elif line.startswith("RSS"):
                rss = float(line.split()[1])
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if ready is None or rss is None:
        raise RuntimeError(f"model-alone process failed (exit {proc.returncode})")
    return {"spawn_to_query_embedded_s": round(ready, 3),
            "peak_rss_mb_one_question": round(rss_query, 1),
            "peak_rss_mb_passages": round(rss, 1)}


def bench_cold_start(question: str, texts: Sequence[str], repeats: int = 2,
                     keep_last: bool = False, log_dir: Path | None = None) -> tuple[dict, object]:
    """App cold start (spawn ``app.py`` to first answer through gradio_client) vs the
    model-alone process, alternately. Returns (result, the last app if ``keep_last``)."""
    from eval.load import start_app

    runs = []
    kept = None
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="gwr-bench-app-"))
    for i in range(repeats):
        floor = model_alone(question, texts)
        app = start_app(log_dir / f"app-{i}.log", feedback_db=log_dir / f"fb-{i}.sqlite3",
                        first_question=question)
        runs.append({"app_s": round(app.cold_start_s, 3),
                     "app_server_up_s": round(app.server_up_s, 3),
                     "floor_s": floor["spawn_to_query_embedded_s"],
                     "floor_peak_rss_mb": floor["peak_rss_mb_one_question"],
                     "floor_build_peak_rss_mb": floor["peak_rss_mb_passages"],
                     "app_peak_rss_mb": process_peak_rss_mb(app.proc.pid)})
        if keep_last and i == repeats - 1:
            kept = app
        else:
            app.stop()
    app_s = statistics.median(r["app_s"] for r in runs)
    floor_s = statistics.median(r["floor_s"] for r in runs)
    return {
        "repeats": repeats,
        "runs": runs,
        "s": round(app_s, 3),
        "floor_s": round(floor_s, 3),
        "ratio": ratio(app_s, floor_s),
        "floor": "fresh python process: import, load the model, embed one question",
        "floor_peak_rss_mb": statistics.median(r["floor_peak_rss_mb"] for r in runs),
        "floor_build_peak_rss_mb": statistics.median(r["floor_build_peak_rss_mb"]
                                                     for r in runs),
    }, kept


# ----- scaling --------------------------------------------------------------------------------
_BOUNDARY = re.compile(r"[^\w+#&.%\-]$")  # a sentence ending here is a jieba block boundary


def report_sentences(limit: int | None = None) -> list[str]:
    """Distinct sentences of the built-in report's cleaned text that end in punctuation
    (so concatenated sentences tokenise exactly like the joined text)."""
    from corpus.chunking import sentence_spans
    from corpus.readers import load_builtin

    seen: dict[str, None] = {}
    for doc in load_builtin():
        for p in doc.paragraphs:
            for a, b in sentence_spans(doc.text, p.start, p.end):
                s = doc.text[a:b]
                if len(s) >= 8 and _BOUNDARY.search(s):
                    seen.setdefault(s, None)
    out = list(seen)
    return out[:limit] if limit else out


def synthetic_layout(n: int, n_sentences: int, seed: int = 0) -> list[np.ndarray]:
    """For each of ``n`` passages, the indexes of its 2-4 sentences (random, reproducible)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 5, size=n)
    return [rng.choice(n_sentences, size=int(k), replace=False) for k in sizes]


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _bm25_bytes(bm25) -> int:
    """Bytes of the BM25 postings arrays (numpy payload; dict overhead not included)."""
    post = getattr(bm25, "_post", {})
    return int(sum(ids.nbytes + ws.nbytes for ids, ws in post.values()))


def _faiss_bytes(idx) -> int:
    import faiss

    return int(faiss.serialize_index(idx).nbytes)


def synthetic_index(layout: Sequence[np.ndarray], sentences: Sequence[str],
                    sent_tokens: Sequence[Sequence[str]], vectors: np.ndarray,
                    terms: Sequence[str], model: str, title: str, per_doc: int = 50):
    """A ``StoredIndex`` over generated documents of ``per_doc`` passages each: passage =
    its sentences joined (offsets valid in the document text), tokens = the sentences'
    tokens concatenated, dense index = ``make_faiss_index(vectors)`` as a real build does."""
    from corpus.types import Chunk, Document, Paragraph
    from index.store import HNSW_THRESHOLD, StoredIndex, make_faiss_index

    docs, chunks, tokens = [], [], []
    for d0 in range(0, len(layout), per_doc):
        doc_id = f"synthetic-{d0 // per_doc:05d}"
        doc_title = f"{title}（合成 {d0 // per_doc + 1}）"
        parts, paras, pos = [], [], 0
        for i in range(d0, min(len(layout), d0 + per_doc)):
            ids = layout[i]
            text = "".join(sentences[j] for j in ids)
            n = len(paras) + 1
            paras.append(Paragraph(n, pos, pos + len(text), n, n))
            chunks.append(Chunk(id=f"{doc_id}-{i:06d}", doc_id=doc_id, title=doc_title,
                                text=text, start=pos, end=pos + len(text), section=(),
                                paragraph=n, line_start=n, line_end=n, year=None))
            tokens.append(tuple(t for j in ids for t in sent_tokens[j]))
            parts.append(text)
            pos += len(text) + 1
        docs.append(Document(doc_id, doc_title, "\n".join(parts), "synthetic", 2023,
                             tuple(paras), ()))
    t0 = time.perf_counter()
    fidx = make_faiss_index(vectors)
    faiss_build_s = time.perf_counter() - t0
    manifest = {"format": 1, "model": model, "dim": int(vectors.shape[1]),
                "counts": {"documents": len(docs), "chunks": len(chunks)},
                "dense_index": "hnsw" if len(chunks) > HNSW_THRESHOLD else "flat",
                "corpus_hash": "synthetic"}
    stored = StoredIndex(Path("synthetic"), manifest, tuple(docs), tuple(chunks), tuple(tokens),
                         tuple(terms), fidx)
    return stored, faiss_build_s


def full_sort_top(scores: np.ndarray, n: int) -> list[tuple[int, float]]:
    """Reference: top-``n`` selection as ``BM25.top`` did before commit 3deef7d, lexsorting
    every passage that matches a query term (O(m log m) for m matches)."""
    idx = np.flatnonzero(scores > 0)
    order = np.lexsort((idx, -scores[idx]))[:n]
    return [(int(idx[i]), float(scores[idx[i]])) for i in order]


def _faiss_threads(n: int | None = None) -> int:
    import faiss

    before = faiss.omp_get_max_threads()
    if n is not None:
        faiss.omp_set_num_threads(n)
    return before


def bench_scaling(sizes: Sequence[int] = SCALING_SIZES, n_queries: int = 200,
                  n_ask: int = 100, rounds: int = 3, pool: int = 40,
                  sentence_limit: int | None = None, rank_bm25_queries: int = 30,
                  seed: int = 0, log: Callable[[str], None] = lambda s: None) -> dict:
    """Query latency and memory over synthetic corpora of ``sizes`` passages.

    Two levels, both measured with every size loaded and the sizes interleaved query by
    query (so a change in the machine's load hits all sizes alike):

    * ``ask``: ``QAEngine.ask(q, retriever=r)`` for r in bm25 / dense / hybrid — the query as
      the engine serves it (tokenising, embedding the question with the real model, retrieval,
      and for hybrid the reranking and answer selection). The 3x target applies here.
    * ``retrieval``: the index alone, with the question's tokens and embedding precomputed:
      ``BM25.top``, ``HybridIndex.dense_ranking`` and both + RRF (top ``pool`` each).

    References for the design choices: rank-bm25 (scores every passage per term), the full
    sort of every BM25 match (``BM25.top`` before commit 3deef7d), faiss with every OpenMP
    thread (the default before that commit), and an exact flat scan at the largest size (with
    HNSW recall@10 against it).
    """
    import faiss
    from rank_bm25 import BM25Okapi

    from corpus.readers import load_builtin
    from index.config import IndexConfig
    from index.embedding import get_embedder
    from index.fusion import rrf
    from index.search import HybridIndex
    from index.tokenizer import ChineseTokenizer, corpus_terms
    from qa.engine import QAEngine

    sizes = sorted(sizes)
    big = sizes[-1]
    model = IndexConfig().model
    embedder = get_embedder(model)
    builtin = load_builtin()
    sentences = report_sentences(sentence_limit)
    t0 = time.perf_counter()
    sent_vecs = embedder.encode_passages(sentences)
    embed_sentences_s = time.perf_counter() - t0
    log(f"scaling: embedded {len(sentences)} report sentences in {embed_sentences_s:.1f}s")
    terms = corpus_terms(d.text for d in builtin)
    tokenizer = ChineseTokenizer(terms)
    t0 = time.perf_counter()
    sent_tokens = [tokenizer.tokenize(s) for s in sentences]
    tokenize_sentences_s = time.perf_counter() - t0

    questions = load_question_texts(n_queries)
    q_vecs = embedder.encode_queries(questions)
    q_tokens = [tokenizer.tokenize(q) for q in questions]

    layout = synthetic_layout(big, len(sentences), seed)
    # tokens of a joined passage == its sentences' tokens concatenated: check on a sample,
    # and measure what tokenising every passage with jieba would cost instead
    sample = layout[: min(300, len(layout))]
    t0 = time.perf_counter()
    direct = [tokenizer.tokenize("".join(sentences[j] for j in ids)) for ids in sample]
    direct_per_chunk = (time.perf_counter() - t0) / len(sample)
    same = sum(d == [t for j in ids for t in sent_tokens[j]]
               for d, ids in zip(direct, sample, strict=True))
    vecs = np.stack([sent_vecs[ids].sum(axis=0) for ids in layout]).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    title = builtin[0].title if builtin else "合成报告"

    engines: dict[int, QAEngine] = {}
    info: dict[int, dict] = {}
    for n in sizes:
        gc.collect()
        rss0 = current_rss_mb() or 0.0
        t0 = time.perf_counter()
        stored, faiss_s = synthetic_index(layout[:n], sentences, sent_tokens, vecs[:n], terms,
                                          model, title)
        t1 = time.perf_counter()
        index = HybridIndex(stored, embedder)  # builds the BM25 inverted index
        bm25_s = time.perf_counter() - t1
        engine = QAEngine(index)
        for q in questions[:10]:  # warm: jieba dictionary, token cache, faiss
            for r in ("bm25", "dense", "hybrid"):
                engine.ask(q, retriever=r)
        gc.collect()
        rss1 = current_rss_mb() or 0.0
        engines[n] = engine
        info[n] = {
            "chunks": n,
            "documents": len(stored.documents),
            "dense_index": stored.manifest["dense_index"],
            "faiss_type": type(stored.vectors_index).__name__,
            "build_s": round(time.perf_counter() - t0, 3),
            "bm25_build_s": round(bm25_s, 3),
            "faiss_build_s": round(faiss_s, 3),
            "bm25_postings_mb": round(_bm25_bytes(index.bm25) / 2**20, 1),
            "faiss_mb": round(_faiss_bytes(stored.vectors_index) / 2**20, 1),
            "memory_mb": round(rss1 - rss0, 1),
        }
        log(f"scaling: built {n} passages: {info[n]}")

    kinds = ("bm25", "dense", "hybrid")
    ask_t = {n: {k: [] for k in kinds} for n in sizes}
    ask_qs = questions[:n_ask]
    for qi, q in enumerate(ask_qs):
        for n in sizes:
            for r in kinds:
                ask_t[n][r].append(_timed(lambda e=engines[n], q=q, r=r: e.ask(q, retriever=r)))
        if (qi + 1) % 25 == 0:
            log(f"scaling: asked {qi + 1}/{len(ask_qs)} questions at every size")

    def dense_q(index, v):
        return index.dense_ranking(v, pool)

    def hybrid_q(index, toks, v):
        s = index.bm25.top(toks, pool)
        d = index.dense_ranking(v, pool)
        return rrf([[i for i, _ in s], [i for i, _ in d]])

    # the project's code as is, and beside it in the same loop two references for the
    # choices made: the full sort BM25.top used before, and faiss with every OpenMP thread
    threads_as_is = _faiss_threads()
    threads_all = os.cpu_count() or 1
    ret_t = {n: {k: [] for k in kinds} for n in sizes}
    ref_t = {n: {"bm25_full_sort": [], "dense_all_threads": []} for n in sizes}
    same_top = True
    try:
        for rnd in range(rounds):
            for qi, (toks, v) in enumerate(zip(q_tokens, q_vecs, strict=True)):
                first = (qi + rnd) % 2 == 0  # alternate who runs first (warm caches)
                for n in sizes:
                    ix = engines[n].index
                    if rnd == 0:
                        same_top &= ix.bm25.top(toks, pool) == full_sort_top(
                            ix.bm25.scores(toks), pool)
                    for as_is in (first, not first):
                        if as_is:
                            ret_t[n]["bm25"].append(
                                _timed(lambda ix=ix, t=toks: ix.bm25.top(t, pool)))
                            ret_t[n]["dense"].append(_timed(lambda ix=ix, v=v: dense_q(ix, v)))
                        else:
                            ref_t[n]["bm25_full_sort"].append(_timed(
                                lambda ix=ix, t=toks: full_sort_top(ix.bm25.scores(t), pool)))
                            _faiss_threads(threads_all)
                            ref_t[n]["dense_all_threads"].append(
                                _timed(lambda ix=ix, v=v: dense_q(ix, v)))
                            _faiss_threads(threads_as_is)
                    ret_t[n]["hybrid"].append(
                        _timed(lambda ix=ix, t=toks, v=v: hybrid_q(ix, t, v)))
    finally:
        _faiss_threads(threads_as_is)
    log("scaling: retrieval timings done")

    # exact flat scan at the largest size, and the recall of the index actually used there
    flat = faiss.IndexFlatIP(vecs.shape[1])
    flat.add(vecs[:big])
    big_index = engines[big].index.stored.vectors_index
    flat_t, flat_all = [], []
    try:
        for v in q_vecs:
            flat_t.append(_timed(lambda v=v, f=flat: f.search(v.reshape(1, -1), pool)))
            _faiss_threads(threads_all)
            flat_all.append(_timed(lambda v=v, f=flat: f.search(v.reshape(1, -1), pool)))
            _faiss_threads(threads_as_is)
    finally:
        _faiss_threads(threads_as_is)
    _, exact = flat.search(q_vecs, RECALL_K)
    _, approx = big_index.search(q_vecs, RECALL_K)
    recall = float(np.mean([len(set(a) & set(e)) / RECALL_K
                            for a, e in zip(approx, exact, strict=True)]))
    flat.reset()

    # rank-bm25 as the project used to: every passage scored in Python for each query term
    rank_ref = {}
    for n in (sizes[0], big):
        okapi = BM25Okapi([list(t) or [""] for t in engines[n].index.stored.tokens])
        rank_ref[str(n)] = summary_ms([
            _timed(lambda o=okapi, t=t: np.argsort(-o.get_scores(t))[:pool])
            for t in q_tokens[:rank_bm25_queries]])
        del okapi
    gc.collect()

    rows = []
    for n in sizes:
        row = dict(info[n])
        bm = engines[n].index.bm25
        row["bm25_matched_p50"] = int(np.median([np.count_nonzero(bm.scores(t)) for t in q_tokens]))
        row["ask"] = {k: summary_ms(ask_t[n][k]) for k in kinds}
        row["retrieval"] = {k: summary_ms(ret_t[n][k]) for k in kinds}
        row["reference"] = {k: summary_ms(v) for k, v in ref_t[n].items()}
        rows.append(row)
    small, large = rows[0], rows[-1]
    checks = {}
    for k in kinds:
        r = ratio(large["ask"][k]["p50_ms"], small["ask"][k]["p50_ms"])
        checks[k] = {"ratio_p50": r, "pass": r is not None and r <= SCALING_TARGET}
    retrieval_ratios = {k: ratio(large["retrieval"][k]["p50_ms"], small["retrieval"][k]["p50_ms"])
                        for k in kinds}
    return {
        "synthetic": ("passages = 2-4 random sentences of the built-in report in generated "
                      "documents of 50 passages; vector = normalised sum of the sentences' real "
                      "embeddings (computed once with the real model at bench time), not a real "
                      "embedding of the passage; BM25 tokens = the sentences' jieba tokens "
                      "concatenated"),
        "sizes": sizes,
        "sentences": len(sentences),
        "embed_sentences_s": round(embed_sentences_s, 3),
        "tokenize_sentences_s": round(tokenize_sentences_s, 3),
        "direct_tokenize_ms_per_chunk": round(direct_per_chunk * 1000, 3),
        "direct_tokenize_est_s_at_largest": round(direct_per_chunk * big, 1),
        "token_equivalence": {"checked": len(sample), "identical": int(same)},
        "queries": len(questions),
        "ask_queries": len(ask_qs),
        "rounds": rounds,
        "pool": pool,
        "timing": {
            "ask": "QAEngine.ask(question, retriever=r): tokenise, embed (dense/hybrid), "
                   "retrieve, and for hybrid rerank and pick the answer",
            "retrieval": "index only, question tokens and vector precomputed: BM25.top, "
                         f"HybridIndex.dense_ranking, both + rrf; top {pool} each",
        },
        "rows": rows,
        "target_ratio": SCALING_TARGET,
        "checks": checks,
        "pass": all(c["pass"] for c in checks.values()),
        "retrieval_ratio_p50": retrieval_ratios,
        "flat_exact_at_largest": {"chunks": big, "as_is": summary_ms(flat_t),
                                  "all_threads": summary_ms(flat_all)},
        "dense_at_largest": {"chunks": big, "index": type(big_index).__name__,
                             "recall_at_10_vs_flat": round(recall, 4),
                             "hnsw_threshold": _hnsw_threshold()},
        "bm25_full_sort_same_ranking": bool(same_top),
        "faiss_omp_threads": threads_as_is,
        "faiss_omp_threads_reference": threads_all,
        "rank_bm25_reference": rank_ref,
        "rank_bm25_queries": min(rank_bm25_queries, len(questions)),
        "peak_rss_mb": peak_rss_mb(),
    }


def _hnsw_threshold() -> int:
    from index.store import HNSW_THRESHOLD

    return HNSW_THRESHOLD


# ----- the scaling plot -----------------------------------------------------------------------
def plot_scaling(scaling: dict, path: Path) -> None:
    """Latency (as the engine serves a question, and the index alone) and memory vs size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = scaling["rows"]
    xs = [r["chunks"] for r in rows]
    colors = {"bm25": "tab:blue", "dense": "tab:orange", "hybrid": "tab:green"}
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.2))
    for ax, level, title in ((axes[0], "ask", "query as served: QAEngine.ask"),
                             (axes[1], "retrieval", "index alone (query vector precomputed)")):
        for k, c in colors.items():
            ax.plot(xs, [r[level][k]["p50_ms"] for r in rows], "o-", color=c, label=f"{k} p50")
            ax.plot(xs, [r[level][k]["p95_ms"] for r in rows], "o--", color=c, alpha=0.55,
                    label=f"{k} p95")
        ax.set_title(title)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("passages")
        ax.set_ylabel("ms per question")
        ax.grid(True, which="both", alpha=0.3)
    ax = axes[1]
    ref = scaling.get("rank_bm25_reference") or {}
    if ref:
        rx = sorted(int(n) for n in ref)
        ax.plot(rx, [ref[str(n)]["p50_ms"] for n in rx], "s:", color="tab:red",
                label="rank-bm25 p50 (reference)")
    flat = scaling.get("flat_exact_at_largest")
    if flat:
        ax.plot([flat["chunks"]], [flat["as_is"]["p50_ms"]], "x", color="black", ms=9,
                label="exact flat p50 (reference)")
    ax.plot(xs, [r["reference"]["bm25_full_sort"]["p50_ms"] for r in rows], "^-.",
            color="tab:purple", label="bm25, full sort of matches p50 (reference)")
    ax.plot(xs, [r["reference"]["dense_all_threads"]["p50_ms"] for r in rows], "v-.",
            color="tab:brown",
            label=f"dense, faiss {scaling['faiss_omp_threads_reference']} threads p50 (reference)")
    axes[0].legend(fontsize=8)
    ax.legend(fontsize=7)
    ax = axes[2]
    ax.plot(xs, [r["memory_mb"] for r in rows], "o-", label="loaded index + engine (RSS delta)")
    ax.plot(xs, [r["bm25_postings_mb"] for r in rows], "s--", label="BM25 postings arrays")
    ax.plot(xs, [r["faiss_mb"] for r in rows], "^--", label="faiss index")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages")
    ax.set_ylabel("MB")
    ax.set_title("memory")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle("Scaling on a synthetic corpus: real report sentences recombined; passage vector "
                 "= normalised sum of real sentence embeddings (not re-embedded)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
