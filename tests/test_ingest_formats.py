"""PDF and DOCX reports made at test time, read back through corpus.readers."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter

# reportlab is a dev dependency (pyproject [dev]); imported plainly so a missing install fails
from reportlab.lib.pagesizes import A5
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from corpus import ChunkConfig, chunk_document, load_corpus

FONT = "STSong-Light"  # Adobe CID font built into reportlab: no font file needed
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

TITLE = "某市2023年政府工作报告"
REVIEW = [
    "过去一年，全市地区生产总值增长5.2%，城镇新增就业3.1万人，一般公共预算收入突破200亿元，"
    "高标准农田建设完成50万亩。",
    "我们坚持抓项目、扩投资，实施重大项目300个，完成投资800亿元，现代煤化工产业链不断延伸，"
    "新材料产业加快集聚。",
]
PLAN = [
    "加快建设风光氢储产业集群，力争新能源装机突破1000万千瓦，新型储能规模达到200万千瓦以上，"
    "绿电消纳能力明显提升。",
    "持续优化营商环境，深化“放管服”改革，推动政务服务事项全部实现网上办理，"
    "让企业和群众办事更方便、更舒心。",
    "扎实推进乡村振兴，新建高标准农田60万亩，粮食产量稳定在80亿斤以上，农牧民收入增长7%左右。",
]
BLOCKS = [("h", "一、2022年工作回顾"), *[("p", t) for t in REVIEW],
          ("h", "二、2023年重点工作"), *[("p", t) for t in PLAN]]


def _wrap(text: str, width: float, size: float, indent: float) -> list[str]:
    """Typeset like a real PDF: fill each line up to ``width`` points (digits are narrow)."""
    lines, cur, avail = [], "", width - indent
    for ch in text:
        if cur and pdfmetrics.stringWidth(cur + ch, FONT, size) > avail:
            lines.append(cur)
            cur, avail = "", width
        cur += ch
    if cur:
        lines.append(cur)
    return lines


def write_pdf(path: Path, blocks, title: str = TITLE, title_line: bool = False,
              lines_per_page: int = 14) -> Path:
    """A text-based PDF: headings and hard-wrapped, indented paragraphs over several pages."""
    c = canvas.Canvas(str(path), pagesize=A5)
    c.setTitle(title)
    top, y, count = 560, 560, 0
    size = 10.5
    if title_line:
        c.setFont(FONT, 16)
        c.drawString(40, y, title)
        y -= 30
    for kind, text in blocks:
        if kind == "h":
            if count >= lines_per_page - 1:
                c.showPage()
                y, count = top, 0
            c.setFont(FONT, 12)
            c.drawString(40, y, text)
            y, count = y - 20, count + 1
            continue
        for i, line in enumerate(_wrap(text, 200, size, 2 * size)):
            if count >= lines_per_page:
                c.showPage()
                y, count = top, 0
            c.setFont(FONT, size)
            c.drawString(40 + (2 * size if i == 0 else 0), y, line)
            y, count = y - 16, count + 1
        y -= 6
    c.save()
    return path


def _sentences(text: str) -> list[str]:
    return re.findall(r"[^。！？]+[。！？]", text)


@pytest.fixture(scope="module")
def pdf_path(tmp_path_factory) -> Path:
    return write_pdf(tmp_path_factory.mktemp("pdf") / "city-2023.pdf", BLOCKS)


def test_pdf_text_layer_is_real(pdf_path):
    """Sanity check of the fixture itself: pypdf gets the Chinese text back, over pages."""
    reader = PdfReader(str(pdf_path))
    assert len(reader.pages) >= 2
    raw = "".join(p.extract_text() for p in reader.pages).replace("\n", "").replace(" ", "")
    for para in REVIEW + PLAN:
        assert para in raw
    assert reader.metadata.title == TITLE


def test_pdf_documents_chunks_and_offsets(pdf_path):
    result = load_corpus([pdf_path])
    assert result.problems == ()
    (doc,) = result.documents
    assert (doc.id, doc.title, doc.year, doc.source) == ("city-2023", TITLE, 2023, str(pdf_path))
    # hard-wrapped lines are joined with nothing inserted: every paragraph is contiguous
    for para in REVIEW + PLAN:
        assert doc.text.count(para) == 1, para
    assert " " not in doc.text and "\u3000" not in doc.text
    heads = {h.title: h for h in doc.headings}
    assert heads["二、2023年重点工作"].level == 1
    assert heads["一、2022年工作回顾"].level == 1

    chunks = chunk_document(doc, ChunkConfig(max_chars=80, min_chars=10))
    assert chunks
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert "\n" not in c.text and len(c.text) <= 80
        para = doc.paragraphs[c.paragraph - 1]
        assert para.start <= c.start and c.end <= para.end
    # each sentence, including one broken across pages 1 and 2, sits whole in one passage
    for para in REVIEW + PLAN:
        for s in _sentences(para):
            assert sum(s in c.text for c in chunks) == 1, s
    plan_start = heads["二、2023年重点工作"].end
    for c in chunks:
        if c.start > plan_start:
            assert c.section == ("二、2023年重点工作",) and c.year == 2023
        else:
            assert c.section == ("一、2022年工作回顾",) and c.year == 2022
    by_sentence = {s: c for c in chunks for s in _sentences(c.text)}
    assert by_sentence["扎实推进乡村振兴，新建高标准农田60万亩，粮食产量稳定在80亿斤以上，"
                       "农牧民收入增长7%左右。"].year == 2023


def test_pdf_title_line_does_not_swallow_first_heading(tmp_path):
    path = write_pdf(tmp_path / "titled.pdf", BLOCKS, title_line=True)
    (doc,) = load_corpus([path]).documents
    assert "一、2022年工作回顾" in [h.title for h in doc.headings]
    chunks = chunk_document(doc)
    assert not any("一、2022年工作回顾" in c.text for c in chunks)


def test_pdf_without_text_layer_is_a_problem(tmp_path):
    scan = tmp_path / "scan.pdf"
    writer = PdfWriter()
    writer.add_blank_page(width=420, height=595)
    with scan.open("wb") as f:
        writer.write(f)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nthis is not a pdf body\n")
    good = write_pdf(tmp_path / "good.pdf", BLOCKS[:2])
    result = load_corpus([tmp_path])
    assert [d.id for d in result.documents] == ["good"]
    problems = {p.source: p.message for p in result.problems}
    assert set(problems) == {str(scan), str(broken)}
    assert "no text layer" in problems[str(scan)] and "OCR" in problems[str(scan)]
    assert "cannot read this PDF" in problems[str(broken)]
    assert good.exists()


# ----- DOCX ---------------------------------------------------------------------------------


def test_docx_headings_sections_and_offsets(tmp_path):
    d = docx.Document()
    d.core_properties.title = "某旗2024年政府工作报告"
    d.add_paragraph("各位代表：")
    d.add_heading("2023年工作回顾", level=1)
    d.add_paragraph("过去一年，全旗地区生产总值增长6.5%，一般公共预算收入增长12%。")
    d.add_heading("2024年重点工作", level=1)
    d.add_heading("扩大有效投资", level=2)
    d.add_paragraph("全年实施重点项目120个，完成固定资产投资150亿元。")
    d.add_paragraph("")
    d.add_paragraph("加快建设风光氢储产业集群，新能源装机达到300万千瓦。")
    path = tmp_path / "banner-2024.docx"
    d.save(str(path))

    result = load_corpus([path])
    assert result.problems == ()
    (doc,) = result.documents
    assert (doc.id, doc.title, doc.year) == ("banner-2024", "某旗2024年政府工作报告", 2024)
    assert "#" not in doc.text
    assert doc.text == (
        "各位代表：\n2023年工作回顾\n过去一年，全旗地区生产总值增长6.5%，一般公共预算收入增长12%。\n"
        "2024年重点工作\n扩大有效投资\n全年实施重点项目120个，完成固定资产投资150亿元。\n"
        "加快建设风光氢储产业集群，新能源装机达到300万千瓦。"
    )
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "2023年工作回顾"), (1, "2024年重点工作"), (2, "扩大有效投资")]
    chunks = chunk_document(doc)
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
    got = {c.text: (c.section, c.year, c.line_start) for c in chunks}
    assert got["过去一年，全旗地区生产总值增长6.5%，一般公共预算收入增长12%。"][:2] == (
        ("2023年工作回顾",), 2023)
    assert got["全年实施重点项目120个，完成固定资产投资150亿元。"] == (
        ("2024年重点工作", "扩大有效投资"), 2024, 6)
    # line numbers count DOCX paragraphs, the empty one included
    assert got["加快建设风光氢储产业集群，新能源装机达到300万千瓦。"] == (
        ("2024年重点工作", "扩大有效投资"), 2024, 8)
    assert "2024年重点工作" not in got and "扩大有效投资" not in got  # headings alone


def test_docx_bad_files_are_problems(tmp_path):
    empty = tmp_path / "empty.docx"
    docx.Document().save(str(empty))
    fake = tmp_path / "fake.docx"
    fake.write_bytes(b"this is plain text saved as .docx")
    ok = tmp_path / "ok.txt"
    ok.write_text("正常的文本文件。", encoding="utf-8")
    result = load_corpus([empty, fake, ok])
    assert [d.id for d in result.documents] == ["ok"]
    problems = {p.source: p.message for p in result.problems}
    assert problems[str(empty)] == "the DOCX has no text"
    assert problems[str(fake)].startswith("cannot read this DOCX")


def test_docx_short_paragraphs_stay_separate(tmp_path):
    d = docx.Document()
    items = [f"第{i}项，新建高标准农田{i}0万亩。" for i in range(1, 11)]
    for t in items:
        d.add_paragraph(t)
    path = tmp_path / "list.docx"
    d.save(str(path))
    (doc,) = load_corpus([path]).documents
    assert [doc.text[p.start:p.end] for p in doc.paragraphs] == items


# ----- HTML ---------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><meta charset="gb2312">
<title>某盟2024年政府工作报告_某盟行政公署门户网站</title>
<script>var tpl = "<p>不是正文</p>";</script><style>p { text-indent: 2em }</style></head>
<body><div class="nav"><ul><li><a href="/">首页</a></li><li><a>政务公开</a></li>
<li><a>办事服务</a></li><li><a>互动交流</a></li></ul></div>
<div id="content">
<p>各位代表：</p>
<h2>一、2023年工作回顾</h2>
<p>过去一年，全盟地区生产总值增长6.8%，&ldquo;双碳&rdquo;工作扎实推进，
新增就业1.2万人。</p>
<h2>二、2024年重点工作</h2>
<h3>（一）扩大有效投资</h3>
<p>全年实施重点项目150个&nbsp;，完成投资300亿元。<br>新建5G基站800个。</p>
</div>
<footer>版权所有 某盟行政公署 备案号12345678</footer>
<div class="links">网站地图 | 联系我们 | 无障碍浏览</div></body></html>"""


def test_html_page_keeps_the_report_and_drops_the_site(tmp_path):
    path = tmp_path / "league-2024.html"
    path.write_bytes(PAGE.encode("gb18030"))  # government pages are often GBK
    result = load_corpus([path])
    assert result.problems == ()
    (doc,) = result.documents
    assert (doc.id, doc.title, doc.year) == ("league-2024", "某盟2024年政府工作报告", 2024)
    for junk in ("首页", "不是正文", "text-indent", "版权所有", "网站地图", "#", "&"):
        assert junk not in doc.text
    assert "“双碳”工作扎实推进，" in doc.text  # entities decoded, wrapped source line joined
    assert [h.title for h in doc.headings] == [
        "一、2023年工作回顾", "二、2024年重点工作", "（一）扩大有效投资"]
    chunks = chunk_document(doc)
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
    by_text = {c.text: c for c in chunks}
    review = next(c for t, c in by_text.items() if "6.8%" in t)
    assert (review.section, review.year) == (("一、2023年工作回顾",), 2023)
    plan = next(c for t, c in by_text.items() if "5G基站800个" in t)
    assert plan.year == 2024 and plan.section[-1] == "（一）扩大有效投资"
    assert "完成投资300亿元。" in plan.text or any("300亿元" in t for t in by_text)


def test_html_without_paragraph_tags_keeps_every_block(tmp_path):
    path = tmp_path / "plain.htm"
    path.write_text("<html><body><div>各位代表：</div><div>全年新建高标准农田"
                    "100万亩。</div><div>新增城镇就业2万人。</div></body></html>",
                    encoding="utf-8")
    (doc,) = load_corpus([path]).documents
    assert "全年新建高标准农田100万亩。" in doc.text and "新增城镇就业2万人。" in doc.text
    assert doc.title == "plain"  # no <title>, and a salutation is no title: the file name


def test_html_bad_files_are_problems(tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_text("<html><head><script>x()</script></head><body> </body></html>",
                     encoding="utf-8")
    binary = tmp_path / "image.html"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    result = load_corpus([empty, binary])
    assert result.documents == ()
    problems = {p.source: p.message for p in result.problems}
    assert problems[str(empty)] == "the web page has no text"
    assert "binary" in problems[str(binary)]
