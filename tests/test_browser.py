"""The chat page in a real Chromium (Debian's /usr/bin/chromium via Playwright, headless).

Skipped when Chromium is missing, unless REQUIRE_BROWSER=1 (CI), where that is a failure.
Install it with ``make browser-deps``. Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from _app_server import REPO, free_port, start_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO / "test-artifacts"
TIMEOUT_MS = 60_000


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} not found (install it with `make browser-deps`)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _require_chromium()
    tmp = tmp_path_factory.mktemp("browser-app")
    port = free_port()
    srv = start_app(["--port", str(port)], tmp / "app.log", port,
                    feedback_db=tmp / "fb.sqlite3")
    srv.feedback_db = tmp / "fb.sqlite3"
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.goto(server.url, wait_until="domcontentloaded")
    pg.locator("#gwr-question textarea").wait_for(state="visible")
    yield pg
    ctx.close()


def ask(page, question: str, n_replies: int):
    """Type ``question``, press Enter, wait for reply number ``n_replies``; return it."""
    box = page.locator("#gwr-question textarea")
    box.fill(question)
    box.press("Enter")
    replies = page.locator("#gwr-chat .gwr-reply")
    replies.nth(n_replies - 1).wait_for(state="attached")
    return replies.nth(n_replies - 1)


def test_chat_answer_citation_highlight_and_context(page):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    reply = ask(page, "今年煤化工产值目标", 1)
    expect(page.locator("#gwr-chat .gwr-question").first).to_have_text("今年煤化工产值目标")

    answer = reply.locator(".gwr-answer")
    answer.scroll_into_view_if_needed()
    expect(answer).to_be_visible()
    expect(answer).to_contain_text("现代煤化工产值突破千亿元")
    first_cite = reply.locator(".gwr-cite").first
    expect(first_cite.locator(".gwr-passage")).to_contain_text("现代煤化工产值突破千亿元")
    expect(first_cite.locator(".gwr-loc")).to_contain_text("第")
    term = first_cite.locator("mark.gwr-hl").first
    expect(term).to_be_visible()
    assert term.evaluate("e => getComputedStyle(e).backgroundColor") not in (
        "rgba(0, 0, 0, 0)", "transparent")

    # "view in context": collapsed at first, opens on click, marks the passage
    context = first_cite.locator("details.gwr-context")
    para = context.locator(".gwr-para")
    expect(para).to_be_hidden()
    context.locator("summary").click()
    expect(para).to_be_visible()
    expect(para.locator("mark.gwr-ctx")).to_contain_text("现代煤化工产值突破千亿元")

    page.locator("#gwr-chat .gwr-question").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "chat.png"))

    # the key figure of the answer is highlighted
    key = answer.locator("mark.gwr-key")
    assert key.count() > 0, "no key figure is highlighted in the answer (answer_key_spans empty)"
    expect(key.first).to_be_visible()


def test_english_question_gets_the_chinese_passage(page):
    """An English question in the chat: the answer sentence and citation are the report's
    own Chinese text (found through the vocabulary and CC-CEDICT)."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    reply = ask(page, "Which city is supported to build a modern coal chemical industry "
                      "demonstration zone?", 1)
    answer = reply.locator(".gwr-answer")
    expect(answer).to_contain_text("支持鄂尔多斯建设现代煤化工产业示范区")
    expect(reply.locator(".gwr-cite").first.locator(".gwr-passage")).to_contain_text(
        "鄂尔多斯")
    page.locator("#gwr-chat .gwr-question").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "chat-english.png"))


def test_followup_staff_view_and_escaping(page, server):
    from playwright.sync_api import expect

    ask(page, "今年煤化工产值目标", 1)
    second = ask(page, "那去年呢？", 2)
    expect(second.locator(".gwr-understood")).to_contain_text("去年煤化工")

    evil = "<script>window.__xss=1</script>![x](http://a)今年煤化工产值目标"
    third = ask(page, evil, 3)
    expect(third).to_be_visible()
    expect(page.locator("#gwr-chat .gwr-question").nth(2)).to_have_text(evil)
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#gwr-chat script, #gwr-chat img").count() == 0

    page.locator("#gwr-staff-toggle input").check()
    staff = page.locator("#gwr-chat .gwr-reply").nth(2).locator(".gwr-cite .gwr-staff")
    expect(staff.first).to_contain_text("BM25")
    expect(page.locator("#gwr-cite-text textarea")).to_have_value(
        re.compile(r"^\[1\] .*›.*\n第\d+段"))
    staff.first \
        .scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-staff.png"))

    # staff feedback on citation [2] of the last answer is stored with the index hash
    page.locator("#gwr-cite-no input").click()
    page.get_by_role("option", name=re.compile(r"^\[2\]")).click()
    expect(page.locator("#gwr-cite-text textarea")).to_have_value(re.compile(r"^\[2\] "))
    page.locator("#gwr-verdict").get_by_text("错误 / wrong").click()
    page.locator("#gwr-comment textarea").fill("测试 <b>comment</b>")
    page.locator("#gwr-flag").click()
    expect(page.locator("#gwr-flag-status textarea")).to_have_value(re.compile("已记录"))
    from qa.feedback import FeedbackStore

    with FeedbackStore(server.feedback_db) as store:
        flags = store.list()
    assert [(f.verdict, f.comment) for f in flags] == [("wrong", "测试 <b>comment</b>")]
    assert flags[0].question == evil and flags[0].quote


def test_clear_and_empty_question(page):
    from playwright.sync_api import expect

    reply = ask(page, "", 1)
    expect(reply.locator(".gwr-message")).to_contain_text("请输入")
    page.locator("#gwr-clear").click()
    expect(page.locator("#gwr-chat .gwr-reply")).to_have_count(0)
    page.get_by_role("button", name="今年城镇新增就业目标").click()  # examples ask at once
    reply = page.locator("#gwr-chat .gwr-reply").first
    expect(reply.locator(".gwr-answer")).to_contain_text("城镇新增就业")
