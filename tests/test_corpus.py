"""corpus/: layout repair, structure, chunking and readers on the real built-in report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import corpus
from corpus import ChunkConfig, CorpusError, chunk_document, chunk_documents, sentence_spans
from corpus.readers import BUILTIN_DIR, load_corpus, load_documents

REPORT = BUILTIN_DIR / "inner-mongolia-2023-government-work-report.txt"
# Written here, independently of corpus.layout, so a change there cannot hide a regression.
MARKER = re.compile(r"[（(]\s*(?:上接|下转)\s*第\s*[一二三四五六七八九十\d]+\s*版\s*[）)]")
MARKER_WORDS = ("上接第", "下转第", "接第一版", "转第三版")
SENTENCE_END = re.compile(r"[。！？][”’」』]*$")
COAL_TARGET = "力争今年现代煤化工产值突破千亿元大关"


@pytest.fixture(scope="module")
def report(builtin_docs):
    assert len(builtin_docs) == 1
    return builtin_docs[0]


@pytest.fixture(scope="module")
def report_chunks(report):
    return chunk_document(report)


def _source_lines() -> list[str]:
    return REPORT.read_text(encoding="utf-8").split("\n")


def _norm(line: str) -> str:
    return MARKER.sub("", line).strip(" \t\r\u3000\xa0")


# ----- cleaned text and chunks of the built-in report ----------------------------------------


def test_builtin_report_metadata(report):
    assert report.id == "nmg-2023-gwr"
    assert report.year == 2023
    assert "2023年政府工作报告" in report.title
    # the raw page does hold markers, so the cleaner really had something to remove
    assert MARKER.search(REPORT.read_text(encoding="utf-8"))


def test_every_chunk_is_an_exact_slice_within_limits(report, report_chunks):
    max_chars = ChunkConfig().max_chars
    assert len(report_chunks) >= 40
    covered = 0
    for c in report_chunks:
        assert report.text[c.start:c.end] == c.text, c.id
        assert 0 < len(c.text) <= max_chars, (c.id, len(c.text))
        assert "\n" not in c.text and "\r" not in c.text
        assert not MARKER.search(c.text)
        assert not any(w in c.text for w in MARKER_WORDS), c.text
        assert c.text == c.text.strip()
        assert c.doc_id == report.id and c.title == report.title
        para = report.paragraphs[c.paragraph - 1]
        assert para.start <= c.start < c.end <= para.end
        assert (c.line_start, c.line_end) == (para.line_start, para.line_end)
        covered += len(c.text)
    # chunks are in reading order and do not overlap
    for a, b in zip(report_chunks, report_chunks[1:], strict=False):
        assert a.end <= b.start
    heading_only = sum(p.end - p.start for p in report.paragraphs
                       if any(h.start == p.start and h.end == p.end for h in report.headings))
    body = sum(p.end - p.start for p in report.paragraphs) - heading_only
    assert covered == body  # nothing of the body text is lost between chunks


def test_chunks_end_at_sentence_boundaries(report_chunks):
    for c in report_chunks:
        assert SENTENCE_END.search(c.text) or c.text[-1] in "；;，,、：:", c.text[-20:]


def test_cleaned_text_has_no_page_markers(report):
    assert not MARKER.search(report.text)
    assert not any(w in report.text for w in MARKER_WORDS)
    assert "\r" not in report.text and "\u3000" not in report.text


def test_wrapped_lines_are_joined_without_inserted_characters(report):
    """Each pair of consecutive source lines joined into a paragraph meets edge to edge."""
    lines = _source_lines()
    joins = 0
    for p in report.paragraphs:
        para_text = report.text[p.start:p.end]
        src = [(n, _norm(lines[n - 1])) for n in range(p.line_start, p.line_end + 1)]
        src = [(n, s) for n, s in src if s]
        assert src, p
        pos = p.start
        for i, (n, s) in enumerate(src):
            found = report.text.find(s, pos, p.end)
            assert found == pos, (
                f"source line {n} {s!r} not at offset {pos} of paragraph {p.number}: "
                f"{report.text[pos:pos + 20]!r}")
            if i:
                prev = src[i - 1][1]
                # line A's last char is immediately followed by line B's first char
                assert report.text[pos - 1] == prev[-1] and report.text[pos] == s[0]
                joins += 1
            pos += len(s)
        assert pos == p.end, f"paragraph {p.number} has text beyond its source lines"
        assert para_text == "".join(s for _, s in src)
    assert joins > 500  # the page is hard-wrapped: hundreds of joins were checked


def test_no_two_paragraphs_were_glued(report):
    headings = {(h.start, h.end) for h in report.headings}
    for p in report.paragraphs:
        text = report.text[p.start:p.end]
        if (p.start, p.end) in headings:
            assert len(text) <= 40
            continue
        assert SENTENCE_END.search(text), f"paragraph {p.number} ends {text[-15:]!r}"
    # a source line that follows a blank line after a finished sentence opens a paragraph
    lines = [_norm(x) for x in _source_lines()]
    body_from = 7  # 0-based index of the first line after the front matter
    starts = {p.line_start for p in report.paragraphs}
    checked = 0
    for i in range(body_from + 2, len(lines)):
        if lines[i] and not lines[i - 1] and lines[i - 2] and SENTENCE_END.search(lines[i - 2]):
            assert i + 1 in starts, f"line {i + 1} {lines[i][:15]!r} glued to the one before"
            checked += 1
    assert checked >= 20


def test_paragraph_offsets_and_lines(report):
    paras = report.paragraphs
    assert [p.number for p in paras] == list(range(1, len(paras) + 1))
    assert report.text.split("\n") == [report.text[p.start:p.end] for p in paras]
    for p in paras:
        assert p.line_start <= p.line_end
    assert paras[0].line_start == 8  # after the front matter and the （上接第一版） line


# ----- structure ----------------------------------------------------------------------------


def test_headings_and_levels(report):
    heads = {h.title: h for h in report.headings}
    for h in report.headings:
        assert report.text[h.start:h.end] == h.title
    assert heads["二、关于今后五年发展"].level == 1
    assert heads["三、2023年重点工作任务"].level == 1
    level2 = [h.title for h in report.headings if h.level == 2]
    assert [t[:3] for t in level2] == ["（一）", "（二）", "（三）", "（四）", "（五）"]
    assert level2[0].startswith("（一）努力实现“开门稳、开门红”")
    assert level2[2].startswith("（三）以新发展理念塑造发展新优势")
    assert heads["不遗余力抓项目"].level == 3
    assert heads["全力以赴抓招商"].level == 3
    assert heads["坚持以链式思维抓产业"].level == 3
    # order: 二 before 三 before （一） before its lead sentences
    order = [h.title for h in report.headings]
    assert order.index("二、关于今后五年发展") < order.index("三、2023年重点工作任务") \
        < order.index(level2[0]) < order.index("不遗余力抓项目") < order.index("全力以赴抓招商") \
        < order.index(level2[1])


def test_coal_chemical_chunk_section_path(report_chunks):
    hits = [c for c in report_chunks if COAL_TARGET in c.text]
    assert len(hits) == 1
    c = hits[0]
    assert c.section_path == ("三、2023年重点工作任务 › （三）以新发展理念塑造发展新优势… › "
                              "坚持以链式思维抓产业")
    assert c.year == 2023


def test_years_of_review_and_plan(report, report_chunks):
    part2 = next(h.start for h in report.headings if h.title == "二、关于今后五年发展")
    part3 = next(h.start for h in report.headings if h.title == "三、2023年重点工作任务")
    opening = [c for c in report_chunks if c.end <= part2]
    assert len(opening) >= 8
    assert report_chunks[0].text.startswith("一年来，我们坚持早出手")
    for c in opening:
        assert c.year == 2022, c.text[:20]
        assert c.section == ("2022年工作回顾",)
    later = [c for c in report_chunks if c.start > part3]
    assert len(later) >= 30
    for c in later:
        assert c.year == 2023
        assert c.section[0] == "三、2023年重点工作任务"
    # the five-year outlook is not about one year
    for c in report_chunks:
        if part2 < c.start < part3:
            assert c.year is None and c.section == ("二、关于今后五年发展",)


def test_heading_only_paragraphs_are_not_chunks(report_chunks):
    texts = {c.text for c in report_chunks}
    assert "二、关于今后五年发展" not in texts
    assert "三、2023年重点工作任务" not in texts
    lead = next(c for c in report_chunks if c.text.startswith("不遗余力抓项目。"))
    assert lead.section[-1] == "不遗余力抓项目"


# ----- chunk ids ----------------------------------------------------------------------------


def test_chunk_ids_stable_across_loads_and_unique(report_chunks):
    again = chunk_documents(corpus.load_builtin())
    assert [c.id for c in again] == [c.id for c in report_chunks]
    assert again == report_chunks
    ids = [c.id for c in report_chunks]
    assert len(set(ids)) == len(ids)


def test_chunk_ids_change_with_text(tmp_path, report_chunks):
    raw = REPORT.read_text(encoding="utf-8")
    assert raw.count("6300亿元") == 1
    changed = tmp_path / REPORT.name
    changed.write_text(raw.replace("6300亿元", "6400亿元"), encoding="utf-8")
    new = chunk_documents(load_documents([changed]))
    assert len(new) == len(report_chunks)
    differ = [(a, b) for a, b in zip(report_chunks, new, strict=True) if a.id != b.id]
    assert len(differ) == 1  # same length edit: only the edited passage gets a new id
    old_c, new_c = differ[0]
    assert "6300亿元" in old_c.text and "6400亿元" in new_c.text
    assert (old_c.start, old_c.end) == (new_c.start, new_c.end)


# ----- sentence splitting and chunk config ---------------------------------------------------


def test_sentence_split_keeps_closing_quotes():
    t = "他说：“好。”然后他走了。她问：“真的吗？”是的！还有"
    assert [t[a:b] for a, b in sentence_spans(t)] == [
        "他说：“好。”", "然后他走了。", "她问：“真的吗？”", "是的！", "还有"]
    # offsets are into the whole string when a range is given
    spans = sentence_spans(t, 7, 22)
    assert [t[a:b] for a, b in spans] == ["然后他走了。", "她问：“真的吗？”"]


def _doc_from_text(tmp_path: Path, text: str, name: str = "d.txt"):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return load_documents([f])[0]


def test_long_sentence_is_split_at_commas(tmp_path):
    clauses = [f"第{i}项任务要加快推进重点项目建设并完成年度目标" for i in range(1, 13)]
    sentence = "，".join(clauses) + "。"
    assert len(sentence) > 200
    doc = _doc_from_text(tmp_path, sentence + "这是下一句话。")
    cfg = ChunkConfig(max_chars=60, min_chars=10)
    chunks = chunk_document(doc, cfg)
    assert len(chunks) >= 5
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert len(c.text) <= 60
    first_sentence = [c for c in chunks if c.end <= len(sentence)]
    for c in first_sentence[:-1]:
        assert c.text.endswith("，"), c.text  # cut after a comma, never inside a clause
    assert "".join(c.text for c in chunks) == doc.text


def test_long_sentence_without_commas_is_hard_cut(tmp_path):
    doc = _doc_from_text(tmp_path, "推进" * 70 + "。")
    chunks = chunk_document(doc, ChunkConfig(max_chars=50, min_chars=0))
    assert all(len(c.text) <= 50 for c in chunks)
    assert "".join(c.text for c in chunks) == doc.text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_chars": 49}, "max_chars=49 is too small"),
        ({"max_chars": 0}, "too small"),
        ({"min_chars": -1}, "min_chars=-1"),
        ({"max_chars": 100, "min_chars": 100}, "min_chars=100"),
        ({"max_chars": 100, "min_chars": 150}, "must be in"),
    ],
)
def test_chunk_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ChunkConfig(**kwargs)


def test_chunk_config_valid_edges():
    assert ChunkConfig(max_chars=50, min_chars=0).max_chars == 50
    assert ChunkConfig(max_chars=51, min_chars=50).min_chars == 50


# ----- readers ------------------------------------------------------------------------------


def test_txt_front_matter(tmp_path):
    f = tmp_path / "report.txt"
    f.write_text(
        "---\nid: city-2024\ntitle: 某市政府工作报告\nyear: 2024\n---\n"
        "过去一年，全市经济稳中向好。\n地区生产总值增长5.2%。\n",
        encoding="utf-8",
    )
    result = load_corpus([f])
    assert result.problems == ()
    (doc,) = result.documents
    assert (doc.id, doc.title, doc.year) == ("city-2024", "某市政府工作报告", 2024)
    assert doc.source == str(f)
    assert doc.text == "过去一年，全市经济稳中向好。\n地区生产总值增长5.2%。"
    assert "---" not in doc.text and "title" not in doc.text
    # line numbers point into the file, after the five front-matter lines
    assert [(p.line_start, p.line_end) for p in doc.paragraphs] == [(6, 6), (7, 7)]
    chunks = chunk_document(doc)
    assert [c.text for c in chunks] == ["过去一年，全市经济稳中向好。", "地区生产总值增长5.2%。"]
    assert all(c.doc_id == "city-2024" and c.title == "某市政府工作报告" for c in chunks)


def test_txt_without_front_matter_uses_file_name_and_title_line(tmp_path):
    f = tmp_path / "tongliao.txt"
    f.write_text("通辽市2023年政府工作报告\n今年要抓好粮食生产。\n", encoding="utf-8")
    (doc,) = load_documents([f])
    assert doc.id == "tongliao"
    assert doc.title == "通辽市2023年政府工作报告"
    assert doc.year == 2023


def test_md_headings_give_section_paths(tmp_path):
    f = tmp_path / "plan.md"
    f.write_text(
        "# 总体要求\n\n今年工作的总体要求是，稳中求进、以进促稳。坚持高质量发展。\n\n"
        "# 重点任务\n\n## 扩大有效投资\n\n全年完成固定资产投资一千亿元。\n\n"
        "## 促进消费\n\n举办消费季活动十场。\n",
        encoding="utf-8",
    )
    (doc,) = load_documents([f])
    assert "#" not in doc.text
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "总体要求"), (1, "重点任务"), (2, "扩大有效投资"), (2, "促进消费")]
    chunks = chunk_document(doc)
    by_text = {c.text: c.section for c in chunks}
    assert by_text == {
        "今年工作的总体要求是，稳中求进、以进促稳。坚持高质量发展。": ("总体要求",),
        "全年完成固定资产投资一千亿元。": ("重点任务", "扩大有效投资"),
        "举办消费季活动十场。": ("重点任务", "促进消费"),
    }
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text


def test_jsonl_several_documents(tmp_path):
    f = tmp_path / "reports.jsonl"
    rows = [
        {"id": "a-2023", "title": "甲市2023年政府工作报告", "text": "甲市今年要建设新能源基地。"},
        {"id": "b-2022", "title": "乙县政府工作报告", "year": 2022, "text": "乙县要发展奶业。"},
        {"id": "c", "text": "丙旗推进生态保护。"},
    ]
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                 encoding="utf-8")
    result = load_corpus([f])
    assert result.problems == ()
    docs = result.documents
    assert [d.id for d in docs] == ["a-2023", "b-2022", "c"]
    assert [d.year for d in docs] == [2023, 2022, None]
    assert [d.title for d in docs] == ["甲市2023年政府工作报告", "乙县政府工作报告", "c"]
    assert [d.text for d in docs] == [r["text"] for r in rows]
    chunks = chunk_documents(list(docs))
    assert [c.doc_id for c in chunks] == ["a-2023", "b-2022", "c"]


def test_folder_with_mixed_files(tmp_path):
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "one.txt").write_text("一号文件说要抓项目。", encoding="utf-8")
    (folder / "two.md").write_text("# 标题\n\n二号文件说要抓招商。", encoding="utf-8")
    (folder / "sub" / "three.jsonl").write_text(
        json.dumps({"id": "three", "text": "三号文件说要抓消费。"}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    (folder / "notes.csv").write_text("not,a,report\n", encoding="utf-8")  # ignored
    result = load_corpus([folder])
    assert result.problems == ()
    assert sorted(d.id for d in result.documents) == ["one", "three", "two"]
    texts = {d.id: d.text for d in result.documents}
    assert texts["two"] == "标题\n二号文件说要抓招商。"
    assert texts["three"] == "三号文件说要抓消费。"


def _problems_for(result, path: Path):
    return [p for p in result.problems if p.source.startswith(str(path))]


def test_bad_files_become_problems_and_the_rest_loads(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("好文件：今年要抓好粮食生产。", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.txt"
    blank.write_text("  \n\n \u3000\n（上接第一版）\n", encoding="utf-8")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    gbk = tmp_path / "gbk.txt"
    gbk_text = "呼和浩特市政府工作报告\n今年要推进乳业振兴，建设国家乳业技术创新中心。"
    gbk.write_bytes(gbk_text.encode("gbk"))
    garbage = tmp_path / "garbage.txt"
    garbage.write_bytes(b"\xff\xfe\xfd\x80\x80 not text \xff")
    unsupported = tmp_path / "sheet.xlsx"
    unsupported.write_bytes(b"PK\x03\x04")
    missing = tmp_path / "missing.txt"
    result = load_corpus([good, empty, blank, binary, gbk, garbage, unsupported, missing])

    assert sorted(d.id for d in result.documents) == ["gbk", "good"]
    docs = {d.id: d for d in result.documents}
    assert docs["gbk"].title == "呼和浩特市政府工作报告"
    assert docs["gbk"].text == gbk_text  # decoded as GBK, not mojibake
    assert len(result.problems) == 6
    expected = {
        empty: "empty",
        blank: "no text left",
        binary: "binary",
        garbage: "not valid UTF-8",
        unsupported: "unsupported file type",
        missing: "no such file",
    }
    for path, words in expected.items():
        found = _problems_for(result, path)
        assert len(found) == 1, (path, result.problems)
        assert found[0].source == str(path)
        assert words in found[0].message, found[0]
        assert str(path) in str(found[0])
    assert "GBK" in _problems_for(result, garbage)[0].message


def test_latin1_text_is_refused_not_mojibake(tmp_path):
    f = tmp_path / "latin.txt"
    f.write_bytes("Rapport annuel: café, élève, naïve, déjà vu, über.".encode("latin-1"))
    result = load_corpus([f])
    assert result.documents == ()
    (problem,) = result.problems
    assert problem.source == str(f) and "UTF-8" in problem.message


def test_jsonl_bad_lines_name_file_and_line(tmp_path):
    f = tmp_path / "mixed.jsonl"
    f.write_text(
        json.dumps({"id": "ok-1", "text": "第一篇正文。"}, ensure_ascii=False) + "\n"
        "{not json\n"
        + json.dumps({"id": "no-text", "title": "缺正文"}, ensure_ascii=False) + "\n"
        "\n"
        + json.dumps({"id": "ok-2", "text": "第二篇正文。"}, ensure_ascii=False) + "\n"
        "[1, 2]\n"
        + json.dumps({"id": "bad-year", "year": "明年", "text": "正文。"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    result = load_corpus([f])
    assert [d.id for d in result.documents] == ["ok-1", "ok-2"]
    by_source = {p.source: p.message for p in result.problems}
    assert set(by_source) == {f"{f}:2", f"{f}:3", f"{f}:6", f"{f}:7"}
    assert "invalid JSON" in by_source[f"{f}:2"]
    assert '"text"' in by_source[f"{f}:3"]
    assert "JSON object" in by_source[f"{f}:6"]
    assert "year" in by_source[f"{f}:7"] and "明年" in by_source[f"{f}:7"]


def test_duplicate_doc_id_is_skipped_with_a_problem(tmp_path):
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("---\nid: same\n---\n第一份报告。", encoding="utf-8")
    b.write_text("---\nid: same\n---\n第二份报告。", encoding="utf-8")
    result = load_corpus([a, b])
    assert [d.text for d in result.documents] == ["第一份报告。"]
    (problem,) = result.problems
    assert problem.source == str(b)
    assert "duplicate" in problem.message and "'same'" in problem.message


def test_empty_folder_is_a_problem(tmp_path):
    folder = tmp_path / "nothing"
    folder.mkdir()
    (folder / "readme.csv").write_text("x", encoding="utf-8")
    result = load_corpus([folder])
    assert result.documents == ()
    (problem,) = result.problems
    assert problem.source == str(folder) and "no " in problem.message


def test_load_documents_raises_when_nothing_loads(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    missing = tmp_path / "gone.md"
    with pytest.raises(CorpusError) as err:
        load_documents([empty, missing])
    msg = str(err.value)
    assert "no readable documents" in msg
    assert f"{empty}: the file is empty" in msg
    assert f"{missing}: no such file or folder" in msg
    with pytest.raises(CorpusError, match="no files given"):
        load_documents([])
    assert issubclass(CorpusError, ValueError)
