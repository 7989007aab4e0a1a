"""Restricting a question to one report or one year, in the engine and the chat layer."""

from __future__ import annotations

import json

import pytest

from index.build import build_from_paths
from index.config import IndexConfig
from qa import chat
from qa.engine import QAEngine

DOCS = [
    {"id": "gd-2023", "title": "广东省2023年政府工作报告", "year": 2023,
     "text": "今年全省地区生产总值增长5%以上。\n新增城镇就业110万人以上。"},
    {"id": "zj-2022", "title": "浙江省2022年政府工作报告", "year": 2022,
     "text": "今年全省地区生产总值增长6%左右。\n城镇新增就业80万人。"},
]


@pytest.fixture(scope="module")
def two_report_engine(tmp_path_factory):
    d = tmp_path_factory.mktemp("filters")
    src = d / "reports.jsonl"
    src.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in DOCS), encoding="utf-8")
    build_from_paths([src], d / "index", IndexConfig(), show_progress=False)
    return QAEngine.from_path(d / "index")


def test_doc_filter_keeps_citations_in_that_report(two_report_engine):
    for doc_id in ("gd-2023", "zj-2022"):
        ans = two_report_engine.ask("地区生产总值增长目标", doc_id=doc_id)
        assert ans.citations
        assert {c.doc_id for c in ans.citations} == {doc_id}


def test_year_filter_and_citations_name_the_document(two_report_engine):
    ans = two_report_engine.ask("城镇新增就业", year=2022)
    assert {c.doc_id for c in ans.citations} == {"zj-2022"}
    assert all(c.title == "浙江省2022年政府工作报告" for c in ans.citations)


def test_filter_that_matches_nothing_says_so(two_report_engine):
    ans = two_report_engine.ask("地区生产总值", year=1999)
    assert not ans.answered and not ans.citations
    assert "筛选" in ans.message


def test_chat_layer_filters_and_choices(two_report_engine):
    docs, years = chat.filter_choices(two_report_engine)
    assert [v for _, v in docs] == ["", "gd-2023", "zj-2022"]
    assert [v for _, v in years] == ["", "2023", "2022"]
    reply = chat.ask(two_report_engine, "新增就业", doc_id="gd-2023")
    assert {c.doc_id for c in reply.answer.citations} == {"gd-2023"}
    out = chat.api_ask(two_report_engine, "新增就业", "[]", "", "2022")
    assert {h["doc_id"] for h in out["hits"]} == {"zj-2022"}
    with pytest.raises(ValueError, match="year"):
        chat.api_ask(two_report_engine, "新增就业", "[]", "", "twenty")


def test_a_word_only_some_titles_name_still_tells_reports_apart(two_report_engine):
    # 广东 names one of the two reports: it keeps its full weight and finds that report
    assert two_report_engine._scope_words(two_report_engine.tokenize("广东地区生产总值目标")) == []
    ans = two_report_engine.ask("广东地区生产总值增长目标")
    assert ans.citations[0].doc_id == "gd-2023"
