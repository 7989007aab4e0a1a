"""qa/render.py: the reply HTML is escaped, highlights wrap the right text, quotes are exact."""

from __future__ import annotations

from html.parser import HTMLParser

from qa.render import esc, highlight, render_answer, render_citation, render_question
from qa.types import Answer, Citation

SCRIPT = "<script>alert(1)</script>"
MD_IMAGE = "![x](http://a)"
PASSAGE = "力争今年现代煤化工产值突破千亿元大关。做大做强稀土新材料产业链。"


class _Collect(HTMLParser):
    """Text inside elements with a given class, and all tags seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str]]] = []
        self.texts: dict[str, list[str]] = {}
        self.marks: list[tuple[str, str]] = []  # (class, text)
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        classes = set((dict(attrs).get("class") or "").split())
        self.stack.append((tag, classes))
        for c in classes:
            self.texts.setdefault(c, []).append("")
        if tag == "mark":
            self.marks.append((" ".join(sorted(classes)), ""))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1][0] == tag, f"bad nesting at </{tag}>"
        self.stack.pop()

    def handle_data(self, data):
        open_classes = set().union(*(c for _, c in self.stack)) if self.stack else set()
        for c in open_classes:
            self.texts[c][-1] += data
        if any(t == "mark" for t, _ in self.stack):
            cls, text = self.marks[-1]
            self.marks[-1] = (cls, text + data)


def parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    p.close()
    assert not p.stack, "unclosed tags"
    return p


def citation(text: str = PASSAGE, **kw) -> Citation:
    fields = dict(
        number=1, doc_id="nmg-2023-gwr", title="内蒙古自治区2023年政府工作报告",
        section="三、2023年重点工作任务 › 坚持以链式思维抓产业", start=8819,
        end=8819 + len(text), paragraph=26, line_start=433, line_end=485, text=text,
        chunk_id="c1", score=3.2843, bm25_rank=1, dense_rank=2,
    )
    fields.update(kw)
    return Citation(**fields)


def answered(c: Citation, question: str = "今年煤化工产值目标") -> Answer:
    a, b = c.answer_span or (0, len(c.text))
    text = c.text[a:b]
    k = text.index("千亿元")
    return Answer(question, question, True, text, text, (c,), 1, ((k, k + 3),),
                  confidence=0.9)


def test_esc_never_produces_markup():
    out = esc(SCRIPT + MD_IMAGE + " $$x$$ `code` **b** http://a.b")
    assert "<" not in out and ">" not in out
    for ch in "![]()`*$:":
        assert ch not in out
    assert parse(f"<div>{out}</div>").tags == ["div"]
    text = _Collect()
    text.feed(f'<p class="t">{out}</p>')
    assert text.texts["t"] == [SCRIPT + MD_IMAGE + " $$x$$ `code` **b** http://a.b"]


def test_question_and_corpus_text_are_escaped():
    evil = f"今年{SCRIPT}目标{MD_IMAGE}"
    c = citation(evil + PASSAGE, highlights=((0, 2),), answer_span=(0, len(evil)))
    ans = Answer(evil, "今年 目标", False, "", "报告中没有找到与此相关的内容。", (c,),
                 notices=(f"注意{SCRIPT}",))
    out = render_question(evil) + render_answer(ans, staff=True)
    assert "<script" not in out.lower()
    assert "<img" not in out.lower()
    assert MD_IMAGE not in out  # Markdown syntax characters are character references
    assert "&lt;script&gt;alert&#40;1&#41;&lt;/script&gt;" in out
    p = parse(out)
    assert set(p.tags) <= {"div", "span", "mark", "blockquote", "b", "code", "pre"}
    assert p.texts["gwr-question"] == [evil]
    # the passage shows exactly the corpus text, markup and all, as text
    assert p.texts["gwr-passage"] == [evil + PASSAGE]
    assert f"注意{SCRIPT}" in p.texts["gwr-notice"][0]


def test_highlights_wrap_the_right_substrings():
    t0 = PASSAGE.index("煤化工")
    t1 = PASSAGE.index("产值")
    key = PASSAGE.index("千亿元")
    end = PASSAGE.index("。") + 1
    c = citation(highlights=((t0, t0 + 3), (t1, t1 + 2)), answer_span=(0, end),
                 key_spans=((key, key + 3),))
    out = render_citation(c)
    p = parse(out)
    assert ("gwr-hl", "煤化工") in p.marks
    assert ("gwr-hl", "产值") in p.marks
    assert ("gwr-key", "千亿元") in p.marks
    assert len(p.marks) == 3
    assert "".join(p.texts["gwr-ans"]) == PASSAGE[:end]  # the answer sentence, in pieces
    assert p.texts["gwr-passage"] == [PASSAGE]  # highlighting never alters the quote
    assert c.title in out and c.location() in parse(out).texts["gwr-loc"][0]


def test_overlapping_spans_nest_properly():
    out = highlight("abcdefgh", terms=((1, 5),), keys=((3, 7),), sentence=(0, 4),
                    passage=(2, 8))
    p = parse(f"<div>{out}</div>")  # parse() asserts well-formed nesting
    visible = _Collect()
    visible.feed(f'<div class="v">{out}</div>')
    assert visible.texts["v"] == ["abcdefgh"]
    assert ("gwr-key", "defg") not in p.marks  # split at the passage/sentence boundaries
    keys = "".join(t for cls, t in p.marks if cls == "gwr-key")
    assert keys == "defg"


def test_bad_spans_are_ignored():
    out = highlight("abc", terms=((-5, 1), (2, 99), (2, 2), (3, 1)))
    p = parse(f"<div>{out}</div>")
    assert [t for _, t in p.marks] == ["a", "c"]


def test_answer_first_with_key_figure_then_citations():
    end = PASSAGE.index("。") + 1
    c = citation(answer_span=(0, end))
    ans = answered(c)
    out = render_answer(ans)
    p = parse(out)
    assert out.index("gwr-answer") < out.index("gwr-cite")
    assert p.texts["gwr-quote"] == [PASSAGE[:end]]
    assert ("gwr-key", "千亿元") in p.marks
    assert "[1]" in p.texts["gwr-ref"][0]
    assert "低置信度" not in out
    assert "gwr-staff" not in out  # staff details only in the staff view


def test_not_found_shows_message_and_low_confidence_passages():
    c = citation(highlights=((2, 4),))
    ans = Answer("火星移民计划的预算是多少", "火星移民计划的预算是多少", False, "",
                 "报告中没有找到与此相关的内容。", (c,), confidence=0.1)
    out = render_answer(ans)
    p = parse(out)
    assert p.texts["gwr-notfound"] == ["报告中没有找到与此相关的内容。"]
    assert "低置信度" in p.texts["gwr-lowconf-title"][0]
    assert p.texts["gwr-passage"] == [PASSAGE]  # closest passage inside the marked box
    assert out.index("gwr-lowconf") < out.index("gwr-passage")
    assert "gwr-answer" not in out


def test_plain_message_without_citations():
    ans = Answer("", "", False, "", "请输入一个问题，例如：今年煤化工产值目标是多少？")
    p = parse(render_answer(ans))
    assert p.texts["gwr-message"] == ["请输入一个问题，例如：今年煤化工产值目标是多少？"]
    assert "低置信度" not in render_answer(ans)


def test_notices_and_understood_are_shown():
    long_q = "煤" * 400
    ans = Answer(long_q[:300], "去年煤化工产值目标", False, "", "报告中没有找到与此相关的内容。",
                 notices=("问题过长，只使用了前300个字符。",))
    p = parse(render_answer(ans))
    assert p.texts["gwr-notice"] == ["⚠ 问题过长，只使用了前300个字符。"]
    assert "去年煤化工产值目标" in p.texts["gwr-understood"][0]
    same = Answer("今年煤化工产值目标", "今年煤化工产值目标", False, "", "x")
    assert "gwr-understood" not in render_answer(same)
    normalised = Answer("今年ＧＤＰ目标？", "今年GDP目标?", False, "", "x")  # NFKC only
    assert "gwr-understood" not in render_answer(normalised)


def test_staff_view_shows_ranks_and_citation_as_text():
    c = citation(bm25_rank=3, dense_rank=None, score=1.23456)
    out = render_answer(answered(c), staff=True)
    p = parse(out)
    staff = [t for t in p.texts["gwr-staff"] if "BM25" in t][0]
    assert "BM25 排名 / rank: 3" in staff
    assert "dense rank: —" in staff
    assert "fused score: 1.2346" in staff
    assert c.as_text() in staff  # the copyable plain-text citation, shown unaltered
    assert c.as_text().startswith("[1] 内蒙古自治区2023年政府工作报告 › 三、")
    assert c.location() in c.as_text() and f"「{PASSAGE}」" in c.as_text()


def test_context_is_collapsible_and_marks_the_passage():
    from qa.engine import Context

    para = "前文。" + PASSAGE + "后文。"
    ctx = Context("nmg-2023-gwr", "报告", "三、", 26, para, 3, 3 + len(PASSAGE))
    end = PASSAGE.index("。") + 1
    out = render_answer(answered(citation(answer_span=(0, end))), contexts={"c1": ctx})
    p = parse(out)
    assert "details" in p.tags and "summary" in p.tags
    assert "查看上下文" in p.texts["gwr-context"][0]
    assert ("gwr-ctx", PASSAGE) in p.marks
    assert p.texts["gwr-para"][0].endswith(para)
