"""index/: BM25, RRF, tokenizer, build/save/load, load errors, add/remove and the CLIs.

Everything is real: jieba, rank-bm25, faiss and the converted e5 model. Test indexes are
built from a few short documents in tmp folders; the built-in index is only read.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from corpus import chunk_documents, load_corpus
from corpus.chunking import sentence_spans
from corpus.types import Document
from index.bm25 import BM25
from index.config import IndexConfig
from index.fusion import rrf
from index.search import HybridIndex
from index.store import (
    FORMAT_VERSION,
    IndexLoadError,
    StoredIndex,
    build_index,
    index_text,
    is_stale,
    load_index,
    make_faiss_index,
    stored_sentence_vectors,
    stored_vectors,
)
from index.tokenizer import ChineseTokenizer, corpus_terms, vocabulary_hash

REPO = Path(__file__).resolve().parents[1]
COAL_TARGET = "力争今年现代煤化工产值突破千亿元大关"
COAL_SECTION = "三、2023年重点工作任务 › （三）以新发展理念塑造发展新优势… › 坚持以链式思维抓产业"
INDEX_FILES = ("manifest.json", "documents.jsonl", "chunks.jsonl", "tokens.jsonl", "terms.txt",
               "dense.faiss", "sentences.jsonl", "sentences.faiss")

SMALL_DOCS = [
    {"id": "baotou-2023", "title": "包头市2023年政府工作报告",
     "text": "今年包头要加快建设“世界绿色硅都”，多晶硅产能达到50万吨。\n"
             "稀土新材料产业产值增长20%以上，建设全国最大的稀土新材料基地。"},
    {"id": "ordos-2023", "title": "鄂尔多斯市2023年政府工作报告",
     "text": "鄂尔多斯将支持现代煤化工产业示范区建设，煤制烯烃产能达到300万吨。\n"
             "推进风光氢储一体化项目，新能源装机突破1000万千瓦。"},
    {"id": "chifeng-2023", "title": "赤峰市2023年政府工作报告",
     "text": "赤峰今年新建高标准农田100万亩，粮食产量稳定在120亿斤以上。\n"
             "推动肉牛产业扩群增量，肉牛存栏达到200万头。"},
]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def _load(path: Path) -> list[Document]:
    result = load_corpus([path])
    assert result.problems == ()
    return list(result.documents)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir())}


def _hits(index: HybridIndex, query: str, retriever: str) -> list[tuple]:
    return [(h.chunk.id, h.rank, h.score, h.bm25_rank, h.dense_rank, h.bm25_score,
             h.dense_score) for h in index.search(query, k=10, retriever=retriever)]


@pytest.fixture(scope="module")
def embedder():
    from index.embedding import get_embedder

    return get_embedder(IndexConfig().model)


@pytest.fixture(scope="module")
def small(tmp_path_factory, embedder):
    """A 3-document, 6-passage index built once for the module (copied before any change)."""
    root = tmp_path_factory.mktemp("small")
    corpus_file = _write_jsonl(root / "small.jsonl", SMALL_DOCS)
    docs = _load(corpus_file)
    out = root / "index"
    config = IndexConfig()
    manifest = build_index(docs, out, config, embedder.encode_passages, embedder.dim,
                           corpus_paths=[str(corpus_file)])
    return {"root": root, "docs": docs, "path": out, "config": config, "manifest": manifest,
            "corpus": corpus_file}


@pytest.fixture
def index_copy(small, tmp_path) -> Path:
    dst = tmp_path / "idx"
    shutil.copytree(small["path"], dst)
    return dst


@pytest.fixture(scope="module")
def builtin_stored(builtin_index_dir) -> StoredIndex:
    return load_index(builtin_index_dir)


# ----- BM25 ---------------------------------------------------------------------------------

QUERIES = [
    "今年煤化工产值目标", "高标准农田建设", "风光氢储产业集群", "稀土新材料产业链",
    "营商环境", "招商引资三年行动", "城镇新增就业", "地区生产总值增长6%左右",
    "奶业振兴", "新能源装机", "固定资产投资增长10%以上", "科技投入", "人才引育",
    "放管服改革", "呼和浩特保卫战", "消费", "煤炭 煤炭 煤炭 保供", "国家能源安全 粮食安全",
    "量子计算机 火星基地", "数字经济 东数西算",
]


def test_bm25_equals_rank_bm25(builtin_stored):
    from rank_bm25 import BM25Okapi

    tokens = builtin_stored.tokens
    assert len(tokens) == len(builtin_stored.chunks) >= 40
    ours = BM25(tokens)
    oracle = BM25Okapi([list(t) for t in tokens])
    tok = ChineseTokenizer(builtin_stored.terms)
    assert len(QUERIES) == 20
    nonzero = 0
    for q in QUERIES:
        qt = tok.tokenize(q)
        assert qt, q
        expected = oracle.get_scores(qt)
        got = ours.scores(qt)
        assert got.shape == expected.shape
        assert np.allclose(got, expected, rtol=1e-9, atol=1e-12), q
        nonzero += bool(expected.any())
        # top() is the oracle's ranking of positive scores, ties by passage order
        order = sorted((i for i in range(len(expected)) if expected[i] > 0),
                       key=lambda i: (-expected[i], i))[:10]
        assert [i for i, _ in ours.top(qt, 10)] == order, q
    assert nonzero >= 18
    assert ours.top(["这个词不在语料里"], 5) == []


def test_bm25_small_cases():
    docs = [["煤化工", "产值"], ["煤化工", "煤化工", "项目"], ["农田"]]
    from rank_bm25 import BM25Okapi

    oracle = BM25Okapi(docs)
    ours = BM25(docs)
    for q in (["煤化工"], ["农田", "项目"], ["产值", "产值"], ["无"]):
        assert np.allclose(ours.scores(q), oracle.get_scores(q))
    assert ours.idf("无") == 0.0 and ours.idf("农田") == oracle.idf["农田"]
    with pytest.raises(ValueError, match="at least one passage"):
        BM25([])


# ----- RRF ----------------------------------------------------------------------------------


def test_rrf_two_lists_exact_scores():
    fused = rrf([[1, 2, 3], [3, 1, 4]], k=60)
    assert fused == [
        (1, 1 / 61 + 1 / 62),
        (3, 1 / 63 + 1 / 61),
        (2, 1 / 62),
        (4, 1 / 63),
    ]


def test_rrf_ties_by_best_rank_then_id():
    # k=0: 99 scores 1/2 from rank 2; 5 scores 1/4 + 1/4 from rank 4 twice: an exact tie
    fused = rrf([[10, 99], [11, 12, 13, 5], [14, 15, 16, 5]], k=0)
    assert fused == [
        (10, 1.0), (11, 1.0), (14, 1.0),  # same score, same best rank: smaller id first
        (12, 0.5), (15, 0.5), (99, 0.5),  # best rank 2
        (5, 0.5),  # same score as 99 but its best rank is 4
        (13, 1 / 3), (16, 1 / 3),
    ]
    assert rrf([[2, 1], [1, 2]]) == [(1, 1 / 61 + 1 / 62), (2, 1 / 61 + 1 / 62)]


def test_rrf_duplicates_counted_once():
    fused = dict(rrf([[7, 7, 8]], k=60))
    assert fused[7] == 1 / 61  # not 1/61 + 1/62
    assert fused[8] == 1 / 63  # its position in the list
    assert dict(rrf([[7, 8], [7, 7]]))[7] == 1 / 61 + 1 / 61


def test_rrf_weights_and_errors():
    fused = rrf([[1, 2], [2, 1]], k=60, weights=[2.0, 1.0])
    assert fused == [(1, 2 / 61 + 1 / 62), (2, 2 / 62 + 1 / 61)]
    fused = rrf([[1, 2], [2, 1]], k=60, weights=[1.0, 3.0])
    assert [i for i, _ in fused] == [2, 1]
    assert dict(rrf([[1], [1]], weights=[0.5, 0.0]))[1] == 0.5 / 61
    with pytest.raises(ValueError, match="k must be >= 0"):
        rrf([[1, 2]], k=-1)
    with pytest.raises(ValueError, match="1 weights for 2 rankings"):
        rrf([[1], [2]], weights=[1.0])
    assert rrf([[1]], k=0) == [(1, 1.0)]
    assert rrf([]) == [] and rrf([[], []]) == []


# ----- tokenizer ----------------------------------------------------------------------------


def test_tokenizer_keeps_report_terms_whole(builtin_stored):
    tok = ChineseTokenizer(builtin_stored.terms)
    cases = {
        "力争今年现代煤化工产值突破千亿元大关": "煤化工",
        "风光氢储产业集群和呼包鄂通装备制造基地开始起步": "风光氢储",
        "完成400万亩高标准农田建设": "高标准农田",
        # an indicator's trailing 率 is not split off alone and glued to the next word
        "赤字率拟按3%安排": "赤字率",
    }
    for text, term in cases.items():
        assert term in tok.tokenize(text), (term, tok.tokenize(text))
    # the stored passage tokens hold them too, so a query word can match
    all_tokens = {t for row in builtin_stored.tokens for t in row}
    assert {"煤化工", "风光氢储", "高标准农田"} <= all_tokens


def test_tokenizer_drops_punctuation_and_stop_words():
    tok = ChineseTokenizer()
    tokens = tok.tokenize("请问，今年的煤化工产值是多少？“双碳”目标呢！……（一）、；")
    assert "煤化工" in tokens and "产值" in tokens and "双碳" in tokens
    for stop in ("请问", "的", "是", "多少", "呢"):
        assert stop not in tokens
    for t in tokens:
        assert any(ch.isalnum() for ch in t), t
        assert not set(t) & set("，。？！“”…（）、；"), t
    assert tok.tokenize("，。！？……  ") == []
    assert tok.tokenize("GDP Growth") == ["gdp", "growth"]


def test_how_many_with_ji_tokenizes_like_duoshao():
    tok = ChineseTokenizer()
    # 几 before a measure word asks for a count: its measure word stays, as after 多少
    assert tok.tokenize("新增了几家企业") == tok.tokenize("新增了多少家企业")
    assert tok.tokenize("新增了几家企业") == ["新增", "家", "企业"]
    assert tok.tokenize("零碳园区有几个") == ["园区", "零碳园区"]
    assert tok.tokenize("几亿元").count("亿元") == 1
    # other words that begin with 几 are words, and 哪几类 asks which, not how many
    assert tok.tokenize("几乎") == ["几乎"] and "类" not in tok.tokenize("建了哪几类园区")


def test_a_question_is_cut_apart_at_a_split_duoshao_or_year_word():
    # jieba glues the 少 of 多少 to what follows, hiding the thing asked for
    tok = ChineseTokenizer()
    assert "少林" in tok.tokenize("去年造了多少林")
    assert tok.tokenize_question("去年造了多少林") == ["去年", "造", "林"]
    assert tok.tokenize_question("煤炭产多少量") == ["煤炭", "产", "量"]
    # where jieba keeps 多少 whole, the question cuts as any text does
    for q in ("男的多少岁才能退休", "去年粮食产量是多少", "有多少少数民族", "今年的目标"):
        assert tok.tokenize_question(q) == tok.tokenize(q), q
    assert "多少岁" in tok.tokenize_question("男的多少岁才能退休")
    # jieba glues the 年 of 去年 to its 年X words too: 去 + 年发电量 hides 去年 and 发电量
    assert "年发电量" in tok.tokenize("去年发电量多少")
    assert tok.tokenize_question("去年发电量多少")[:4] == ["去年", "发电", "电量", "发电量"]
    assert "今年底" in tok.tokenize_question("今年底完成多少")  # a word jieba keeps whole
    # passages are not cut so: 很多少数民族 keeps 少数民族
    assert "少数民族" in tok.tokenize("很多少数民族")


def test_tokens_identical_at_build_and_query_time(builtin_stored):
    fresh = ChineseTokenizer(builtin_stored.terms)
    for chunk, stored_tokens in zip(builtin_stored.chunks, builtin_stored.tokens, strict=True):
        assert tuple(fresh.tokenize(index_text(chunk))) == stored_tokens, chunk.id
    assert list(builtin_stored.terms) == corpus_terms(d.text for d in builtin_stored.documents)


# ----- build, save, load --------------------------------------------------------------------


@pytest.mark.slow
def test_saved_index_searches_like_the_in_memory_one(small, embedder):
    docs, config = small["docs"], small["config"]
    chunks = chunk_documents(docs, config.chunk)
    terms = corpus_terms(d.text for d in docs)
    tok = ChineseTokenizer(terms)
    texts = [index_text(c) for c in chunks]
    memory = StoredIndex(
        path=small["path"], manifest={"model": config.model}, documents=tuple(docs),
        chunks=tuple(chunks), tokens=tuple(tuple(tok.tokenize(t)) for t in texts),
        terms=tuple(terms), vectors_index=make_faiss_index(embedder.encode_passages(texts)))
    in_memory = HybridIndex(memory, embedder)
    loaded = HybridIndex.load(small["path"], embedder)

    assert loaded.chunks == in_memory.chunks and len(loaded.chunks) == 6
    assert tuple(loaded.documents.values()) == tuple(docs)
    assert loaded.stored.tokens == memory.tokens and loaded.stored.terms == memory.terms
    cases = [(q, "bm25") for q in ("煤化工产能", "高标准农田", "稀土新材料基地", "新能源装机多少")]
    cases += [("煤化工产能", "hybrid"), ("粮食产量", "hybrid"), ("稀土基地", "dense")]
    for query, retriever in cases:  # each hybrid/dense search embeds the query: keep them few
        got = _hits(loaded, query, retriever)
        assert got, (query, retriever)
        assert got == _hits(in_memory, query, retriever), (query, retriever)
    top = loaded.search("煤化工产能", k=1)[0]
    assert top.chunk.doc_id == "ordos-2023" and "煤制烯烃" in top.chunk.text


@pytest.mark.slow
def test_deterministic_builds(small, embedder, tmp_path):
    again = tmp_path / "again"
    manifest = build_index(small["docs"], again, small["config"], embedder.encode_passages,
                           embedder.dim, corpus_paths=[str(small["corpus"])])
    first = small["path"]
    for name in ("chunks.jsonl", "tokens.jsonl", "documents.jsonl", "terms.txt",
                 "sentences.jsonl"):
        assert (again / name).read_bytes() == (first / name).read_bytes(), name
    a, b = load_index(first), load_index(again)
    va, vb = stored_vectors(a), stored_vectors(b)
    assert va.shape == (6, embedder.dim) and np.array_equal(va, vb)
    assert np.allclose(np.linalg.norm(va, axis=1), 1.0, atol=1e-5)
    # every passage's sentences, each embedded on its own, the same on every build
    assert a.sentence_spans == tuple(tuple(sentence_spans(c.text)) for c in a.chunks)
    assert np.array_equal(a.sentence_vectors, b.sentence_vectors)
    assert a.sentence_vectors.shape == (6, embedder.dim)
    assert np.allclose(np.linalg.norm(a.sentence_vectors, axis=1), 1.0, atol=1e-5)
    m1 = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    m2 = json.loads((again / "manifest.json").read_text(encoding="utf-8"))
    assert m1.pop("timings").keys() == m2.pop("timings").keys()
    assert m1 == m2
    assert manifest["counts"] == {"documents": 3, "chunks": 6, "sentences": 6}
    assert m1["format"] == FORMAT_VERSION and m1["model"] == small["config"].model


# ----- load errors --------------------------------------------------------------------------


def _expect_load_error(path: Path, *words: str, **kwargs) -> str:
    with pytest.raises(IndexLoadError) as err:
        load_index(path, **kwargs)
    msg = str(err.value)
    assert str(path) in msg, msg
    assert f"python -m index build --out {path}" in msg, msg  # says how to rebuild
    for w in words:
        assert w in msg, msg
    return msg


def test_load_error_missing_folder(tmp_path):
    _expect_load_error(tmp_path / "never-built", "No index", "manifest.json missing")


@pytest.mark.parametrize("name", ["tokens.jsonl", "dense.faiss", "documents.jsonl",
                                  "sentences.jsonl", "sentences.faiss"])
@pytest.mark.slow
def test_load_error_missing_file(index_copy, name):
    (index_copy / name).unlink()
    _expect_load_error(index_copy, "incomplete", name)


@pytest.mark.slow
def test_load_error_truncated_manifest(index_copy):
    m = index_copy / "manifest.json"
    data = m.read_bytes()
    m.write_bytes(data[: len(data) // 2])
    _expect_load_error(index_copy, "corrupt", "JSONDecodeError")


@pytest.mark.slow
def test_load_error_format_version(index_copy):
    m = index_copy / "manifest.json"
    manifest = json.loads(m.read_text(encoding="utf-8"))
    manifest["format"] = FORMAT_VERSION + 1
    m.write_text(json.dumps(manifest), encoding="utf-8")
    _expect_load_error(index_copy, f"format {FORMAT_VERSION + 1}", f"reads {FORMAT_VERSION}")


@pytest.mark.slow
def test_load_error_other_vocabulary(index_copy):
    # passages tokenized under other shipped terms would be queried with tokens cut
    # otherwise (赤字率 whole at query time, 赤字 率拟 in the stored passages)
    m = index_copy / "manifest.json"
    manifest = json.loads(m.read_text(encoding="utf-8"))
    assert manifest["vocabulary"] == vocabulary_hash()
    manifest["vocabulary"] = "0" * 16
    m.write_text(json.dumps(manifest), encoding="utf-8")
    _expect_load_error(index_copy, "tokenized with another vocabulary")


@pytest.mark.slow
def test_load_error_offsets_do_not_match(index_copy):
    f = index_copy / "chunks.jsonl"
    rows = [json.loads(x) for x in f.read_text(encoding="utf-8").splitlines()]
    rows[2]["start"] += 1
    rows[2]["end"] += 1
    f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                 encoding="utf-8")
    _expect_load_error(index_copy, "corrupt", "offsets do not match")


@pytest.mark.slow
def test_load_error_garbage_faiss(index_copy):
    (index_copy / "dense.faiss").write_bytes(os.urandom(2048))
    _expect_load_error(index_copy, "corrupt")


@pytest.mark.slow
def test_load_error_faiss_of_other_size(index_copy):
    faiss = pytest.importorskip("faiss")
    faiss.write_index(make_faiss_index(np.eye(3, 384, dtype=np.float32)),
                      str(index_copy / "dense.faiss"))
    _expect_load_error(index_copy, "dense.faiss does not match")


@pytest.mark.slow
def test_load_error_sentence_files(index_copy):
    faiss = pytest.importorskip("faiss")
    f = index_copy / "sentences.jsonl"
    good = f.read_text(encoding="utf-8")
    rows = [json.loads(x) for x in good.splitlines()]
    rows[1]["spans"][0][1] += 500  # past the passage's end
    f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                 encoding="utf-8")
    _expect_load_error(index_copy, "sentences.jsonl does not match")
    f.write_text(good, encoding="utf-8")
    faiss.write_index(make_faiss_index(np.eye(3, 384, dtype=np.float32)),
                      str(index_copy / "sentences.faiss"))
    _expect_load_error(index_copy, "sentences.faiss does not match")
    (index_copy / "sentences.faiss").write_bytes(os.urandom(2048))
    _expect_load_error(index_copy, "corrupt")


@pytest.mark.slow
def test_load_error_tokens_out_of_order(index_copy):
    f = index_copy / "tokens.jsonl"
    lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
    f.write_text("".join(reversed(lines)), encoding="utf-8")
    _expect_load_error(index_copy, "tokens.jsonl does not match")


@pytest.mark.slow
def test_load_error_model_mismatch(small):
    msg = _expect_load_error(small["path"], "built with model", "'other'", expect_model="other")
    assert "--model other" in msg
    assert load_index(small["path"], expect_model=small["config"].model).manifest["model"] \
        == small["config"].model


@pytest.mark.slow
def test_changed_corpus_is_stale(small, tmp_path):
    stored = load_index(small["path"])
    assert not is_stale(stored, small["docs"])
    rows = [dict(r) for r in SMALL_DOCS]
    rows[1]["text"] = rows[1]["text"].replace("300万吨", "400万吨")
    changed = _load(_write_jsonl(tmp_path / "changed.jsonl", rows))
    assert is_stale(stored, changed)
    assert is_stale(stored, small["docs"][:2])  # a document removed
    retitled = [Document(d.id, d.title + "（修订）", d.text, d.source, d.year, d.paragraphs,
                         d.headings) for d in small["docs"]]
    assert is_stale(stored, retitled)


# ----- atomic writes ------------------------------------------------------------------------


@pytest.mark.slow
def test_failed_embedding_leaves_previous_index(small, index_copy, tmp_path):
    before = _snapshot(index_copy)
    rows = [*SMALL_DOCS, {"id": "new", "text": "新增文档的正文。"}]
    docs = _load(_write_jsonl(tmp_path / "more.jsonl", rows))

    def broken_embed(texts):
        raise RuntimeError("embedding service died")

    with pytest.raises(RuntimeError, match="embedding service died"):
        build_index(docs, index_copy, small["config"], broken_embed, small["manifest"]["dim"])
    assert _snapshot(index_copy) == before
    assert len(load_index(index_copy).chunks) == 6
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert leftovers == []


@pytest.mark.slow
def test_failed_write_leaves_no_temp_folder(small, index_copy, tmp_path, embedder):
    before = _snapshot(index_copy)
    bad = [Document(d.id, d.title, d.text, Path(d.source), d.year, d.paragraphs, d.headings)
           for d in small["docs"]]
    with pytest.raises(TypeError):
        build_index(bad, index_copy, small["config"], embedder.encode_passages, embedder.dim)
    # the previous index is intact either way
    assert _snapshot(index_copy) == before
    assert len(load_index(index_copy).chunks) == 6
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert leftovers == []


# ----- add / remove -------------------------------------------------------------------------


@pytest.mark.slow
def test_add_documents_reuses_vectors(index_copy, tmp_path):
    from index.build import add_documents

    old = load_index(index_copy)
    old_vectors = {c.id: v for c, v in zip(old.chunks, stored_vectors(old), strict=True)}
    new_file = tmp_path / "hulunbuir-2023.txt"
    new_file.write_text("---\ntitle: 呼伦贝尔市2023年政府工作报告\n---\n"
                        "呼伦贝尔今年要做强奶业，建设优质奶源基地。\n"
                        "推进中俄蒙跨境旅游，接待游客增长两成。\n", encoding="utf-8")
    manifest = add_documents(index_copy, [new_file])
    assert manifest["timings"]["reused"] == len(old.chunks) == 6
    assert manifest["timings"]["embedded"] == 2
    assert manifest["timings"]["sentences_embedded"] == 2  # the old sentences are kept too
    new = load_index(index_copy)
    old_sents = stored_sentence_vectors(old)
    for cid, v in stored_sentence_vectors(new).items():
        if cid in old_sents:
            assert np.array_equal(v, old_sents[cid])
    assert [d.id for d in new.documents] == [d["id"] for d in SMALL_DOCS] + ["hulunbuir-2023"]
    vectors = stored_vectors(new)
    for c, v in zip(new.chunks, vectors, strict=True):
        if c.id in old_vectors:
            assert np.array_equal(v, old_vectors[c.id])  # unchanged passages kept their vectors
    assert sum(c.doc_id == "hulunbuir-2023" for c in new.chunks) == 2
    assert str(new_file.resolve()) in new.manifest["corpus_paths"]
    index = HybridIndex(new)
    assert index.search("奶源基地", k=1, retriever="bm25")[0].chunk.doc_id == "hulunbuir-2023"

    # replacing a document re-embeds only its changed passage
    rows = [dict(SMALL_DOCS[2])]
    rows[0]["text"] = rows[0]["text"].replace("200万头", "210万头")
    manifest = add_documents(index_copy, [_write_jsonl(tmp_path / "fix.jsonl", rows)])
    assert (manifest["timings"]["embedded"], manifest["timings"]["reused"]) == (1, 7)
    assert any("210万头" in c.text for c in load_index(index_copy).chunks)


@pytest.mark.slow
def test_remove_documents(index_copy):
    from index.build import remove_documents

    manifest = remove_documents(index_copy, ["ordos-2023"])
    assert manifest["counts"] == {"documents": 2, "chunks": 4, "sentences": 4}
    assert (manifest["timings"]["embedded"], manifest["timings"]["reused"]) == (0, 4)
    stored = load_index(index_copy)
    assert {c.doc_id for c in stored.chunks} == {"baotou-2023", "chifeng-2023"}
    assert not any("煤化工" in c.text for c in stored.chunks)
    before = _snapshot(index_copy)
    with pytest.raises(ValueError, match="no document with id") as err:
        remove_documents(index_copy, ["nope"])
    assert "nope" in str(err.value)
    with pytest.raises(ValueError, match="empty"):
        remove_documents(index_copy, ["baotou-2023", "chifeng-2023"])
    assert _snapshot(index_copy) == before


# ----- command lines ------------------------------------------------------------------------


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONIOENCODING": "utf-8"})


@pytest.mark.slow
def test_cli_build_then_ask_json(tmp_path):
    corpus_file = _write_jsonl(tmp_path / "two.jsonl", SMALL_DOCS[1:])
    out = tmp_path / "cli-index"
    r = _run("-m", "index", "build", "--corpus", str(corpus_file), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert f"index written to {out}" in r.stdout
    assert "2 document(s), 4 passages" in r.stdout and "4 embedded" in r.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(INDEX_FILES)

    r = _run("-m", "qa", "ask", "--index", str(out), "--json", "鄂尔多斯煤制烯烃产能")
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    hits = answer["hits"]
    assert hits and len(hits) <= 4
    stored = load_index(out)
    texts = {d.id: d.text for d in stored.documents}
    fields = {"rank", "doc_id", "chunk_id", "title", "section", "start", "end", "text", "score",
              "bm25_rank", "dense_rank"}
    for n, h in enumerate(hits, 1):
        assert fields <= set(h), set(h)
        assert h["rank"] == n
        assert h["doc_id"] in {"ordos-2023", "chifeng-2023"}
        assert texts[h["doc_id"]][h["start"]:h["end"]] == h["text"]
    assert hits[0]["doc_id"] == "ordos-2023" and "煤制烯烃" in hits[0]["text"]
    assert hits[0]["title"] == "鄂尔多斯市2023年政府工作报告"


def test_cli_build_empty_corpus(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    out = tmp_path / "never"
    r = _run("-m", "index", "build", "--corpus", str(empty), "--out", str(out))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert str(empty) in r.stderr and "empty" in r.stderr
    assert not out.exists()


@pytest.mark.slow
def test_acceptance_ask_coal_chemical_target(builtin_index_dir):
    r = _run("-m", "qa", "ask", "今年煤化工产值目标")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    first = out.index("[1] ")
    assert "[2] " not in out[:first]
    block = out[first:out.index("[2] ") if "[2] " in out else len(out)]
    header = block.splitlines()[0]
    assert header.endswith(COAL_SECTION), header
    assert COAL_TARGET in block


def test_search_rejects_empty_question(builtin_index_dir):
    index = HybridIndex.load(builtin_index_dir)
    for q in ("", "   ", "\n\t"):
        with pytest.raises(ValueError, match="empty question"):
            index.search(q)


def test_cli_ask_empty_question(builtin_index_dir):
    r = _run("-m", "qa", "ask", "")
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert r.returncode == 0
    assert "请输入一个问题" in r.stdout


def test_top_positive_matches_a_full_sort_including_ties():
    from index.bm25 import top_positive

    rng = np.random.default_rng(7)
    for _ in range(300):
        s = rng.integers(0, 4, size=40).astype(float)  # many ties and zeros
        n = int(rng.integers(1, 12))
        idx = np.flatnonzero(s > 0)
        full = [(int(i), float(s[i])) for i in idx[np.lexsort((idx, -s[idx]))][:n]]
        assert top_positive(s, n) == full
    assert top_positive(np.zeros(5), 3) == []
