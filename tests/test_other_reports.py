"""The same pipeline on reports other than the built-in one, and English through CC-CEDICT.

The State Council's 2024 report (``eval/data/corpora``) has another year (今年 = 2024),
another scope (national: 全国 is its own) and no front matter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from corpus import load_corpus
from corpus.readers import _guess_title
from eval.sets import CORPORA, SETS, get_set, index_for
from qa.answer import sentence_year_signal
from qa.confidence import foreign_places, report_scope
from qa.engine import QAConfig, QAEngine
from qa.intent import CURRENT, YearIntent
from qa.lexicon import compounds, romanisations, translations

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_report_year_and_review_year_of_the_national_report():
    (doc,) = load_corpus([CORPORA / "china-national-2024.txt"]).documents
    assert doc.year == 2024
    assert doc.title == "政府工作报告"
    review = next(h for h in doc.headings if h.title.startswith("一、"))
    assert review.title == "一、2023年工作回顾"


def test_a_salutation_is_not_a_title():
    assert _guess_title("各位代表：\n\n现在，我代表国务院……", "report-2025") == "report-2025"
    (doc,) = load_corpus([CORPORA / "china-national-2025.txt"]).documents
    assert doc.title == "china-national-2025" and doc.year == 2025


@pytest.mark.parametrize(("question", "gold", "other"), [
    ("今年GDP增长目标", "国内生产总值增长5%左右", "增长5.2%"),
    ("去年经济增长多少", "增长5.2%", "增长5%左右"),
    ("What is the 2024 GDP growth target?", "国内生产总值增长5%左右", "增长5.2%"),
])
def test_this_year_and_last_year_follow_the_report_year(national_engine, question, gold, other):
    a = national_engine.ask(question)
    assert a.answered, a.extra
    assert gold in a.answer and other not in a.answer


def test_quanguo_is_home_in_the_national_report(national_engine):
    text = "现在，我代表国务院，向大会报告政府工作"
    assert "全国" in report_scope("政府工作报告", text)
    assert "全国" not in report_scope("内蒙古自治区2023年政府工作报告", "我代表自治区人民政府")
    # a provincial report names its region in the cover lines, not always in the title
    cover = "政府工作报告\n——2026年1月26日在广东省第十四届人民代表大会第五次会议上\n各位代表：……"
    assert foreign_places("广东今年GDP目标", report_scope("政府工作报告", cover), "") == []
    assert foreign_places("北京今年GDP目标", report_scope("政府工作报告", cover), "") == ["北京"]
    assert foreign_places("全国去年粮食产量", report_scope("政府工作报告", text), "粮食") == []
    a = national_engine.ask("全国去年粮食产量")
    assert a.answered and "1.39万亿斤" in a.answer


def test_a_comparison_with_last_year_is_not_last_year():
    sentence = "新增政府债务总规模11.86万亿元、比上年增加2.9万亿元。"
    assert sentence_year_signal(sentence, 2025, 2025, YearIntent(CURRENT)) == 1.0
    assert sentence_year_signal("去年粮食产量1.39万亿斤。", 2025, 2025,
                                YearIntent(CURRENT)) == -1.0


def test_another_region_is_still_foreign_in_the_national_report(national_engine):
    a = national_engine.ask("北京今年GDP增长目标")
    assert not a.answered


def test_every_set_names_an_existing_corpus_and_questions():
    for s in SETS:
        assert s.questions.exists(), s.name
        assert s.corpus_path is None or s.corpus_path.exists(), s.name
    with pytest.raises(ValueError, match="unknown question set"):
        get_set("nope")


# ----- English through the dictionary -------------------------------------------------
@pytest.mark.parametrize(("phrase", "word"), [
    ("tourists", "游客"), ("built", "建设"), ("wages", "工资"), ("hohhot", "呼和浩特"),
    ("base station", "基站"), ("census", "普查"), ("industries", "产业"),
])
def test_cedict_translations(phrase, word):
    assert word in translations(phrase)


def test_loose_translation_uses_two_word_senses():
    assert "品牌" not in translations("brand")
    assert "品牌" in translations("brand", loose=True)


def test_english_words_outside_the_vocabulary_get_corpus_words(engine):
    groups = dict(engine._english_groups("Which city is supported to build a demonstration zone?"))
    assert "城市" in groups["city"] and "示范" in groups["demonstration"]
    # a dictionary phrase is one group; words the report has no word for stay, empty,
    # and count as not covered
    assert dict(engine._english_groups("How many night markets were built?")) == {
        "night markets": ("夜市",), "built": ("建设", "建成", "打造")}
    assert engine._english_groups("What is the lottery jackpot?") == [
        ("lottery", ()), ("jackpot", ())]


@pytest.mark.parametrize(("word", "spelling"), [
    ("大杨树", "dayangshu"), ("高考", "gaokao"), ("绿色", "lvse"), ("绿色", "luse")])
def test_romanisations(word, spelling):
    assert spelling in romanisations(word)


def test_a_name_written_in_pinyin_finds_the_corpus_word(engine):
    q = "Why does the new gaokao exam site in Dayangshu town matter?"
    groups = dict(engine._english_groups(q))
    # gaokao is in the vocabulary (高考); Dayangshu, a town, only its pinyin can give
    assert groups["dayangshu"] == ("大杨树",) and "高考" in engine.ask(q).extra["expansions"]
    # an English word with a dictionary sense is never read as pinyin (site: 斯特?)
    assert groups["site"] == ()
    a = engine.ask(q)
    assert "大杨树镇高考考点" in a.citations[0].text and "大杨树镇高考考点" in a.answer


def test_the_model_reads_an_english_question_beside_its_dictionary_words(engine):
    # the dictionary's 事项 (items) and 下放 (delegated) beside the question bring the model
    # closer to the passage on powers handed down (its dense rank 13 → 8 on 2 cores) and
    # lift the passage's score; whether it then ranks first depends on the other signals
    q = "How many power items has the autonomous region already delegated to lower levels?"

    def gold(answer):
        return next(c for c in answer.citations if "679项权力事项" in c.text)

    alone = gold(QAEngine(engine.index, QAConfig(dense_glosses=0)).ask(q, k=10))
    read = gold(engine.ask(q, k=10))
    assert read.dense_rank + 3 <= alone.dense_rank, (read.dense_rank, alone.dense_rank)
    assert read.score > alone.score + 0.1


def test_english_missing_words_are_the_untranslated_content_words(engine):
    # question words (why, is) and translated words are accounted for; only words neither
    # the vocabulary nor the dictionary renders count as a topic the report lacks
    q = "How are casinos taxed?"
    assert engine._missing_words(q, engine.tokenize(q), engine._english_groups(q)) == [
        "casinos"]
    q = "What is the lottery jackpot?"
    assert engine._missing_words(q, engine.tokenize(q), engine._english_groups(q)) == [
        "lottery", "jackpot"]


def test_dictionary_words_find_an_english_answer(engine):
    a = engine.ask("Which city is supported to build a modern coal chemical industry "
                   "demonstration zone?")
    assert a.answered and "鄂尔多斯" in a.answer


def test_compound_words_are_joined_from_their_parts(engine):
    assert "零碳" in compounds(["zero", "carbon"])
    # only what the corpus uses is kept: 零碳 (园区) is there, 市场实体 is not
    assert dict(engine._english_groups("Are there zero-carbon parks?"))["zero-carbon"] == (
        "零碳",)
    assert "market entities" not in dict(engine._english_groups("new market entities"))


def test_english_answer_sentence_uses_the_model(engine):
    """Lexical scores alone pick the storage sentence of the passage (储能 …); the model's
    similarity of question and sentence picks the hydrogen one."""
    q = "What is the target for hydrogen production equipment capacity this year?"
    lexical_only = QAEngine(engine.index, QAConfig(sentence_dense=0.0)).ask(q)
    a = engine.ask(q)
    assert a.citations[0].chunk_id == lexical_only.citations[0].chunk_id
    assert "制氢设备产能达到250台套" in a.answer
    assert "制氢设备产能达到250台套" not in lexical_only.answer


def test_the_cover_lines_are_not_answers_to_content_questions(guangdong_engine):
    eng = guangdong_engine
    cover = [c for c in eng.index.chunks if eng._on_cover(c)]
    assert cover and any(c.text.startswith("标题：2026年广东省政府工作报告") for c in cover)
    assert all("各位代表" not in c.text for c in cover)
    # the title line used to be the answer here (it shares 2026 and 广东 with the question)
    ans = eng.ask("广东2026年CPI涨幅目标是多少")
    assert not eng._on_cover(eng.index.chunks[eng.index.position[ans.citations[0].chunk_id]])


def test_questions_about_the_report_itself():
    from qa.confidence import asks_about_report, cover_end

    assert asks_about_report("这份报告是谁作的") and asks_about_report("报告是哪天作的")
    assert asks_about_report("Who delivered the report?")
    assert not asks_about_report("今年GDP增长目标") and not asks_about_report("谁来当链长")
    assert cover_end("政府工作报告\n国务院总理 李强\n各位代表：\n现在……") == 16
    assert cover_end("一年来，我们坚持……") == 0


def test_who_delivered_the_report_is_asked_of_its_cover():
    from qa.confidence import asks_delivery, cover_line_fits

    for q in ("这份政府工作报告是谁作的", "报告人是谁", "政府工作报告在哪次会议上作的",
              "报告是哪天作的", "Who delivered this report?"):
        assert asks_delivery(q), q
    # a question about a policy, or about a person in the report, is not about the report
    for q in ("新政策什么时候发布", "主席是谁", "谁来当链长", "今年GDP增长目标"):
        assert not asks_delivery(q), q
    assert cover_line_fits("国务院总理", "报告是谁做的")
    assert cover_line_fits("李\u3000强", "报告是谁做的")
    assert not cover_line_fits("政府工作报告", "报告是谁做的")
    assert cover_line_fits("——2024年3月5日在第十四届全国人民代表大会第二次会议上", "报告是哪天作的")
    assert not cover_line_fits("国务院总理", "报告是哪天作的")


@pytest.mark.parametrize(("question", "gold"), [
    ("这份政府工作报告是谁作的", "国务院总理"),
    ("Who delivered this report?", "国务院总理"),
    ("报告是哪天作的", "2024年3月5日"),
    ("政府工作报告在哪次会议上作的", "第十四届全国人民代表大会第二次会议"),
])
def test_the_cover_answers_who_delivered_the_report(national_engine, question, gold):
    # the cover lines are short and share few words with the question: they used to lose
    # to the opening (我代表国务院…), which names neither the premier nor the date
    a = national_engine.ask(question)
    assert a.answered and gold in a.answer, (a.answer, a.confidence)
    if gold == "国务院总理":  # the name is the next cover line, cited next
        assert a.citations[1].text == "李\u3000强"


def test_a_text_without_cover_lines_cannot_say_who_delivered_it(engine):
    # the built-in newspaper excerpt starts mid-report (上接第一版): no cover, no opening;
    # it used to answer 报告是谁做的 with 三是育企延链… (0.45) and English with a slogan
    for q in ("报告是谁做的", "Who delivered this report?", "报告是哪天作的"):
        a = engine.ask(q)
        assert not a.answered and a.extra["evidence"]["delivery_absent"], (q, a.answer)
        assert any("封面" in n for n in a.notices)
    # the State Council's 2025 text has no cover but opens with 我代表国务院: that answers
    # who, not when or at which meeting
    eng = QAEngine.from_path(index_for(get_set("national2025")))
    assert eng.ask("这份政府工作报告是谁作的").answered
    assert not eng.ask("报告是哪天作的").answered
    assert not eng.ask("政府工作报告在哪次会议上作的").answered


def test_the_answer_sentence_holds_the_word_the_question_could_not_say(national_engine):
    # CPI is not a word of the report: 居民消费价格 stands in for it, and the target
    # sentence's clause with it is the answer, not the first clause (今年…目标…GDP)
    eng = national_engine
    assert "居民消费价格" in eng._stand_in_tokens("今年CPI目标", ["居民消费价格"], ["今年", "目标"])
    # a question word the report itself uses needs no stand-in
    assert eng._stand_in_tokens("今年居民消费价格目标", [], ["今年", "居民消费价格", "目标"]) == []
    ans = eng.ask("今年CPI目标")
    assert ans.answered and "居民消费价格涨幅3%左右" in ans.answer, ans.answer


def test_an_answer_does_not_depend_on_the_hash_seed():
    # three sentences of the State Council's 2025 report score the same for this question;
    # summed over a set, their scores differed in the last bits from one process to the
    # next, and so did the answer
    index = index_for(get_set("national2025"))
    q = "What kind of monetary policy will China run this year?"
    answers = set()
    for seed in ("1", "2", "3", "4"):
        r = subprocess.run([sys.executable, "-m", "qa", "ask", "--json", "--index", str(index),
                            q], cwd=REPO, capture_output=True, text=True, timeout=300, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed})
        answers.add(json.loads(r.stdout)["answer"])
    # one answer: the heading, shown with the sentences it heads
    assert len(answers) == 1 and answers.pop().startswith("实施适度宽松的货币政策。发挥好"), answers
