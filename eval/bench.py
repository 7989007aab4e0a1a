"""Performance benchmark: each figure beside the floor it cannot beat, measured in the same run.

Figures and floors:

* index build on the built-in report  vs  embedding the same passage texts with the model alone;
* question latency (``QAEngine.ask``, warm)  vs  embedding the same question alone;
* cold start of ``app.py`` (spawn to first answer)  vs  a process that only loads the model and
  embeds one question;
* peak memory  vs  a process that only loads the model and embeds the passages;
* the scaling curve at 1k / 10k / 100k synthetic passages (BM25, dense, hybrid latency and
  memory), whose floor is the 1k figure.

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
    """This process's peak resident set size so far (ru_maxrss, KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


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
    """The texts the built-in report's index embeds (``index_text`` of each passage)."""
    from corpus.chunking import chunk_documents
    from corpus.readers import BUILTIN_DIR, load_corpus
    from index.config import IndexConfig
    from index.store import index_text

    config = config or IndexConfig()
    docs = list(load_corpus([BUILTIN_DIR]).documents)
    return [index_text(c) for c in chunk_documents(docs, config.chunk)]


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
    from qa.engine import QAEngine

    index = HybridIndex.load(ensure_builtin_index())
    embedder = get_embedder(index.manifest["model"])
    index._embedder = embedder  # the same loaded model the bare floor uses
    engine = QAEngine(index)
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
import json, resource, sys, time
t0 = time.perf_counter()
from index.config import IndexConfig
from index.embedding import get_embedder
e = get_embedder(IndexConfig().model)
e.encode_queries([sys.argv[1]])
print("READY", time.perf_counter() - t0, flush=True)
texts = json.loads(sys.stdin.read())
e.encode_passages(texts)
print("RSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, flush=True)
"""


def model_alone(question: str, texts: Sequence[str], timeout: float = 600.0) -> dict:
    """Spawn a process that loads the model and embeds one question (cold-start floor), then
    embeds ``texts`` (peak-memory floor: the model and its work, nothing else)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _FLOOR_SCRIPT, question], cwd=REPO, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    ready = None
    rss = None
    try:
        assert proc.stdin is not None and proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("READY"):
                ready = time.perf_counter() - t0
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
    return {"spawn_to_query_embedded_s": round(ready, 3), "peak_rss_mb": round(rss, 1)}


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
                     "floor_peak_rss_mb": floor["peak_rss_mb"],
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
    return int(sum(ids.nbytes + ws.nbytes for ids, ws in bm25._post.values()))


def _faiss_bytes(idx) -> int:
    import faiss

    return int(faiss.serialize_index(idx).nbytes)


def bench_scaling(sizes: Sequence[int] = SCALING_SIZES, n_queries: int = 200,
                  rounds: int = 3, pool: int = 40, sentence_limit: int | None = None,
                  rank_bm25_queries: int = 30, seed: int = 0,
                  log: Callable[[str], None] = lambda s: None) -> dict:
    """Latency and memory of BM25, dense and hybrid retrieval over synthetic corpora.

    Queries are the real built-in questions: their real query embeddings and jieba tokens are
    computed once, so each timing is the retrieval itself (the part that grows with the
    corpus). All sizes stay loaded and are queried in interleaved rounds, so a change in the
    machine's load hits every size alike.
    """
    import faiss
    from rank_bm25 import BM25Okapi

    from corpus.readers import load_builtin
    from index.bm25 import BM25
    from index.config import IndexConfig
    from index.embedding import get_embedder
    from index.fusion import rrf
    from index.store import HNSW_THRESHOLD, make_faiss_index
    from index.tokenizer import ChineseTokenizer, corpus_terms

    sizes = sorted(sizes)
    embedder = get_embedder(IndexConfig().model)
    sentences = report_sentences(sentence_limit)
    t0 = time.perf_counter()
    sent_vecs = embedder.encode_passages(sentences)
    embed_sentences_s = time.perf_counter() - t0
    log(f"scaling: embedded {len(sentences)} report sentences in {embed_sentences_s:.1f}s")
    tokenizer = ChineseTokenizer(corpus_terms(d.text for d in load_builtin()))
    t0 = time.perf_counter()
    sent_tokens = [tokenizer.tokenize(s) for s in sentences]
    tokenize_sentences_s = time.perf_counter() - t0

    questions = load_question_texts(n_queries)
    q_vecs = embedder.encode_queries(questions)
    q_tokens = [tokenizer.tokenize(q) for q in questions]

    layout = synthetic_layout(sizes[-1], len(sentences), seed)
    # the joined text's tokens == the concatenated sentence tokens: check on a sample, and
    # measure what tokenising every passage directly would cost
    sample = layout[: min(300, len(layout))]
    t0 = time.perf_counter()
    direct = [tokenizer.tokenize("".join(sentences[j] for j in ids)) for ids in sample]
    direct_per_chunk = (time.perf_counter() - t0) / len(sample)
    same = sum(d == [t for j in ids for t in sent_tokens[j]] for d, ids in zip(
        direct, sample, strict=True))
    t0 = time.perf_counter()
    all_tokens = [[t for j in ids for t in sent_tokens[j]] for ids in layout]
    concat_s = time.perf_counter() - t0
    vecs = np.zeros((len(layout), sent_vecs.shape[1]), dtype=np.float32)
    for i, ids in enumerate(layout):
        vecs[i] = sent_vecs[ids].sum(axis=0)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    log(f"scaling: {len(layout)} synthetic passages; tokens by concatenation in {concat_s:.1f}s")

    built = {}
    for n in sizes:
        gc.collect()
        rss0 = current_rss_mb()
        t0 = time.perf_counter()
        bm25 = BM25(all_tokens[:n])
        bm25_build = time.perf_counter() - t0
        rss1 = current_rss_mb()
        t0 = time.perf_counter()
        fidx = make_faiss_index(vecs[:n])
        faiss_build = time.perf_counter() - t0
        gc.collect()
        rss2 = current_rss_mb()
        built[n] = {"bm25": bm25, "faiss": fidx}
        built[n]["info"] = {
            "chunks": n,
            "dense_index": "hnsw" if n > HNSW_THRESHOLD else "flat",
            "faiss_type": type(fidx).__name__,
            "bm25_build_s": round(bm25_build, 3),
            "faiss_build_s": round(faiss_build, 3),
            "bm25_postings_mb": round(_bm25_bytes(bm25) / 2**20, 1),
            "faiss_mb": round(_faiss_bytes(fidx) / 2**20, 1),
            "rss_delta_mb": round((rss2 or 0) - (rss0 or 0), 1),
            "bm25_rss_delta_mb": round((rss1 or 0) - (rss0 or 0), 1),
            "rss_after_mb": rss2,
        }
        log(f"scaling: built {n}: {built[n]['info']}")

    def bm25_q(b, toks):
        return b.top(toks, pool)

    def dense_q(f, v):
        scores, ids = f.search(v.reshape(1, -1), pool)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def hybrid_q(b, f, toks, v):
        s = b.top(toks, pool)
        d = dense_q(f, v)
        return rrf([[i for i, _ in s], [i for i, _ in d]])

    times = {n: {"bm25": [], "dense": [], "hybrid": []} for n in sizes}
    for r in range(rounds):
        for n in sizes:
            b, f = built[n]["bm25"], built[n]["faiss"]
            for toks, v in zip(q_tokens, q_vecs, strict=True):
                times[n]["bm25"].append(_timed(lambda b=b, toks=toks: bm25_q(b, toks)))
                times[n]["dense"].append(_timed(lambda f=f, v=v: dense_q(f, v)))
                times[n]["hybrid"].append(
                    _timed(lambda b=b, f=f, toks=toks, v=v: hybrid_q(b, f, toks, v)))
        log(f"scaling: query round {r + 1}/{rounds} done")

    # references for the design choice: rank-bm25 (every passage per term, in Python) and an
    # exact flat scan at the largest size; HNSW recall@10 against the exact result
    big = sizes[-1]
    flat = faiss.IndexFlatIP(vecs.shape[1])
    flat.add(vecs[:big])
    flat_times = [_timed(lambda v=v: dense_q(flat, v)) for v in q_vecs for _ in range(rounds)]
    _, exact = flat.search(q_vecs, RECALL_K)
    _, approx = built[big]["faiss"].search(q_vecs, RECALL_K)
    recall = float(np.mean([len(set(a) & set(e)) / RECALL_K
                            for a, e in zip(approx, exact, strict=True)]))
    rank_ref = {}
    for n in (sizes[0], sizes[-1]):
        okapi = BM25Okapi([t or [""] for t in all_tokens[:n]])
        qs = q_tokens[:rank_bm25_queries]
        rank_ref[n] = summary_ms([_timed(lambda o=okapi, t=t: np.argsort(-o.get_scores(t))[:pool])
                                  for t in qs])
        del okapi
    gc.collect()

    rows = []
    for n in sizes:
        row = dict(built[n]["info"])
        for kind in ("bm25", "dense", "hybrid"):
            row[kind] = summary_ms(times[n][kind])
        rows.append(row)
    small, large = rows[0], rows[-1]
    checks = {}
    for kind in ("bm25", "dense", "hybrid"):
        r = ratio(large[kind]["p50_ms"], small[kind]["p50_ms"])
        checks[kind] = {"ratio_p50": r, "pass": r is not None and r <= SCALING_TARGET}
    return {
        "synthetic": ("passages = 2-4 random sentences of the built-in report; vector = "
                      "normalised sum of the sentences' real embeddings (not a real embedding "
                      "of the passage); tokens = concatenated sentence tokens"),
        "sizes": sizes,
        "sentences": len(sentences),
        "embed_sentences_s": round(embed_sentences_s, 3),
        "tokenize_sentences_s": round(tokenize_sentences_s, 3),
        "direct_tokenize_ms_per_chunk": round(direct_per_chunk * 1000, 3),
        "direct_tokenize_est_s_at_largest": round(direct_per_chunk * big, 1),
        "concat_tokens_s_at_largest": round(concat_s, 3),
        "token_equivalence_checked": len(sample),
        "token_equivalence_same": int(same),
        "queries": len(questions),
        "rounds": rounds,
        "pool": pool,
        "timing": ("retrieval only: query vectors and tokens precomputed; bm25 = BM25.top, "
                   "dense = faiss search, hybrid = both + index.fusion.rrf; top "
                   f"{pool} each (the engine's candidate pool)"),
        "rows": rows,
        "target_ratio": SCALING_TARGET,
        "checks": checks,
        "pass": all(c["pass"] for c in checks.values()),
        "flat_exact_at_largest": summary_ms(flat_times),
        "hnsw": {"chunks": big, "index": type(built[big]["faiss"]).__name__,
                 "recall_at_10_vs_flat": round(recall, 4),
                 "threshold": HNSW_THRESHOLD},
        "rank_bm25_reference": {str(n): v for n, v in rank_ref.items()},
        "rank_bm25_queries": min(rank_bm25_queries, len(questions)),
        "peak_rss_mb": peak_rss_mb(),
    }
