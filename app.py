"""Web chat for the government work report assistant (layout only; logic lives in qa/).

    python app.py [--host 127.0.0.1] [--port 7860] [--index DIR] [--feedback-db FILE]

Host and port default to Gradio's ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT``
environment variables, then to 127.0.0.1:7860; command-line options win. The API endpoint
``/ask`` takes ``(question, history_json)`` and returns the structured answer JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import gradio as gr

from qa import chat
from qa.render import REPLY_CSS

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_CONCURRENCY = 8
QA_CONCURRENCY_ID = "qa"  # the chat and the API share one limit on questions answered at once
EXAMPLES = [
    "今年煤化工产值目标",
    "今年地区生产总值增长目标是多少？",
    "去年粮食产量",
    "今年城镇新增就业目标",
    "What is the GDP growth target for this year?",
]
APP_CSS = """
#gwr-header h1 { margin: 0 0 2px; font-size: 22px; }
#gwr-header p { margin: 0; color: #64748b; font-size: 13px; }
"""
HEADER = (
    '<div id="gwr-header"><h1>政府工作报告问答 · Government Work Report Q&amp;A</h1>'
    "<p>内置：内蒙古自治区2023年政府工作报告。回答均为报告原文，附出处，可展开查看上下文。"
    " / Answers are exact quotes from the report, with numbered sources.</p></div>"
)


def build_app(engine, feedback_store=None) -> gr.Blocks:
    """The chat page for ``engine`` (a ``qa.engine.QAEngine``); nothing is launched here."""
    with gr.Blocks(title="政府工作报告问答", analytics_enabled=False) as demo:
        session = gr.State(chat.ChatSession())
        gr.HTML(HEADER)
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="对话 / Chat", elem_id="gwr-chat", height=640,
                    render_markdown=False, sanitize_html=True, latex_delimiters=[],
                    allow_tags=False, group_consecutive_messages=False,
                    feedback_options=None, buttons=[],
                    placeholder="请提问，例如：今年煤化工产值目标 / Ask about the report",
                )
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False, scale=8, lines=1, max_lines=4, autofocus=True,
                        elem_id="gwr-question",
                        placeholder="输入问题，按 Enter 发送 / Type a question and press Enter",
                    )
                    send = gr.Button("发送 / Send", variant="primary", scale=1, min_width=90)
                doc_choices, year_choices = chat.filter_choices(engine)
                with gr.Row(visible=len(doc_choices) > 2 or len(year_choices) > 2):
                    doc_filter = gr.Dropdown(label="只在此报告中查找 / only this report",
                                             choices=doc_choices, value="",
                                             elem_id="gwr-doc-filter")
                    year_filter = gr.Dropdown(label="年份 / year", choices=year_choices,
                                              value="", elem_id="gwr-year-filter")
                with gr.Row():
                    clear = gr.Button("清空对话 / Clear", size="sm", elem_id="gwr-clear")
                    staff = gr.Checkbox(label="工作人员视图 / staff view", value=False,
                                        elem_id="gwr-staff-toggle")
                examples = gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question],
                                       label="示例问题（点击提问）/ Examples (click to ask)",
                                       api_visibility="private")
            with gr.Column(scale=2, visible=False) as staff_panel:
                gr.Markdown("### 工作人员 / Staff\n检索排名与得分见每条引用下方。"
                            "以下针对最近一次回答的引用。")
                cite_no = gr.Dropdown(label="引用编号 / citation", choices=[],
                                      interactive=True, elem_id="gwr-cite-no")
                cite_text = gr.Textbox(label="引用文本（可复制）/ citation as text", lines=6,
                                       interactive=False, buttons=["copy"],
                                       elem_id="gwr-cite-text")
                if feedback_store is not None:
                    verdict = gr.Radio(label="这条引用 / this citation is",
                                       choices=[("错误 / wrong", "wrong"),
                                                ("正确 / confirmed", "confirmed")],
                                       elem_id="gwr-verdict")
                    comment = gr.Textbox(label="备注（可选）/ comment (optional)", lines=2,
                                         elem_id="gwr-comment")
                    flag = gr.Button("提交反馈 / submit feedback", elem_id="gwr-flag")
                    flag_status = gr.Textbox(label="反馈状态 / status", interactive=False,
                                             elem_id="gwr-flag-status")
                else:
                    gr.Markdown("反馈未启用 / feedback store not available.")

        def submit(q, sess, staff_on, doc_id, year):
            reply = chat.ask(engine, q, sess, staff=staff_on, doc_id=doc_id or None,
                             year=chat.parse_year(year))
            choices = chat.citation_choices(reply.session)
            first = choices[0][1] if choices else None
            return (chat.messages(reply.session, staff=staff_on), reply.session, "",
                    gr.update(choices=choices, value=first),
                    chat.citation_text(reply.session, first))

        submit_io = dict(fn=submit, inputs=[question, session, staff, doc_filter, year_filter],
                         outputs=[chatbot, session, question, cite_no, cite_text],
                         api_visibility="private", concurrency_id=QA_CONCURRENCY_ID)
        question.submit(**submit_io)
        send.click(**submit_io)
        examples.load_input_event.then(**submit_io)

        def toggle_staff(sess, staff_on):
            return chat.messages(sess, staff=staff_on), gr.update(visible=staff_on)

        staff.change(toggle_staff, [session, staff], [chatbot, staff_panel],
                     api_visibility="private")

        def reset():
            return [], chat.clear_session(), "", gr.update(choices=[], value=None), ""

        reset_io = dict(fn=reset, inputs=None,
                        outputs=[chatbot, session, question, cite_no, cite_text],
                        api_visibility="private")
        clear.click(**reset_io)
        chatbot.clear(**reset_io)  # the chat's own trash button forgets the session too
        cite_no.change(chat.citation_text, [session, cite_no], [cite_text],
                       api_visibility="private")

        if feedback_store is not None:
            def give_feedback(sess, number, v, text):
                try:
                    status = chat.record_feedback(feedback_store, engine, sess, number, v, text)
                except (ValueError, RuntimeError) as e:
                    return f"未记录 / not recorded: {e}", text
                return status, ""

            flag.click(give_feedback, [session, cite_no, verdict, comment],
                       [flag_status, comment], api_visibility="private")

        def ask(question: str, history_json: str = "[]", doc_id: str = "",
                year: str = "") -> dict:
            """Answer a question about the report. ``history_json``: JSON list of the
            previous questions (the ``history`` of the previous reply) for follow-ups;
            ``doc_id`` / ``year`` optionally restrict it to one report or year.
            Returns the answer JSON (answered, answer, message, citations, hits, ...)
            plus ``history`` and the rendered ``html``."""
            try:
                return chat.api_ask(engine, question, history_json, doc_id, year)
            except ValueError as e:
                raise gr.Error(str(e)) from None

        gr.api(ask, api_name="ask", concurrency_id=QA_CONCURRENCY_ID)
    return demo


def _env_port() -> int | None:
    raw = os.environ.get("GRADIO_SERVER_PORT", "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"error: GRADIO_SERVER_PORT={raw!r} is not a port number") from None


def load_engine(index_dir: Path | None):
    """The engine over ``index_dir``, or over the built-in index (built when missing)."""
    from index.build import ensure_builtin_index
    from qa.engine import QAEngine

    path = index_dir if index_dir else ensure_builtin_index()
    print(f"loading index {path} ...", flush=True)
    engine = QAEngine.from_path(path)
    # loads the query model and the English dictionary now, not on the first user
    from qa.lexicon import load as load_dictionary

    engine.ask("今年地区生产总值增长目标")
    load_dictionary()
    return engine


def open_feedback(path: Path | None):
    try:
        from qa.feedback import FeedbackStore, default_feedback_path
    except ImportError:
        return None
    target = path or default_feedback_path()
    try:
        store = FeedbackStore(target)
    except (OSError, RuntimeError) as e:
        print(f"warning: staff feedback disabled ({e})", file=sys.stderr)
        return None
    print(f"staff feedback is stored in {target}", flush=True)
    return store


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="app.py", description="Web chat over the report index.")
    p.add_argument("--host", help="address to bind (default: $GRADIO_SERVER_NAME or "
                                  f"{DEFAULT_HOST})")
    p.add_argument("--port", type=int, help="port (default: $GRADIO_SERVER_PORT or "
                                            f"{DEFAULT_PORT})")
    p.add_argument("--index", type=Path, help="index folder (default: the built-in report)")
    p.add_argument("--feedback-db", type=Path,
                   help="staff feedback database (default: $GWR_QA_FEEDBACK_DB or "
                        "~/.local/share/gwr-qa/feedback.sqlite3)")
    p.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY,
                   help=f"questions answered at once (default {DEFAULT_CONCURRENCY})")
    args = p.parse_args(argv)
    host = args.host or os.environ.get("GRADIO_SERVER_NAME", "").strip() or DEFAULT_HOST
    port = args.port or _env_port() or DEFAULT_PORT

    from index.store import IndexLoadError

    try:
        engine = load_engine(args.index)
    except IndexLoadError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    demo = build_app(engine, open_feedback(args.feedback_db))
    demo.queue(default_concurrency_limit=args.concurrency)
    demo.launch(server_name=host, server_port=port, css=REPLY_CSS + APP_CSS, ssr_mode=False,
                share=False, show_error=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
