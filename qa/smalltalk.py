"""Chat turns that are not questions about a report: greetings, thanks, asking what the
assistant is, and requests to write, translate or chat. They get a short reply that says
what the assistant does, never the closest passage dressed up as an answer."""

from __future__ import annotations

import re

GREETING, THANKS, HELP, TASK = "greeting", "thanks", "help", "task"

_END = r"[\s!！。.,，~～?？呀啊吗呢哈]*$"
_KINDS = (
    (GREETING, re.compile(r"^(?:你好|您好|你们好|大家好|嗨|哈喽|哈啰|在吗|早上好|上午好|"
                          r"下午好|晚上好|hello|hi|hey|good (?:morning|afternoon|evening))"
                          + _END, re.I)),
    (THANKS, re.compile(r"^(?:谢谢|多谢|感谢|谢啦|好的谢谢|thanks|thank you|thx|ok|好的|明白了)"
                        + _END, re.I)),
    (HELP, re.compile(r"^(?:(?:你们?|您)(?:是谁|是什么|叫什么|能做什么|会做什么|会什么|能干什么|"
                      r"会干什么|可以做什么|可以干什么|有什么用|有什么功能|"
                      r"(?:能|可以)帮(?:我|我们)?(?:做|干)?(?:些)?什么)|"
                      r"这个(?:东西)?(?:有什么用|怎么用|能做什么|是干什么的)|怎么用|怎么提问|"
                      r"帮助|使用说明|help|who are you|what are you|what can you do|"
                      r"what do you do|what is this|how do i use (?:this|you))" + _END, re.I)),
    (TASK, re.compile(r"(?:写|编|作|画)(?:一)?(?:首|篇|段|封|幅|个故事)|翻译|讲(?:一)?个笑话|"
                      r"唱(?:一)?首|陪我聊|聊聊天|\bwrite (?:a|an|me)\b|\btranslate\b|"
                      r"\btell (?:me )?a joke\b|\bsing\b", re.I)),
)

REPLIES = {
    "zh": {
        GREETING: "您好！我回答关于政府工作报告内容的问题，并给出报告原文段落和出处。"
                  "例如：今年经济增长的预期目标是多少？",
        THANKS: "不客气！还有关于报告的问题，欢迎继续提问。",
        HELP: "我是政府工作报告问答助手：请就报告内容提问（目标、数字、政策、去年的成绩等），"
              "我会给出回答所依据的报告原文段落，并注明文档、章节和字符位置。"
              "例如：去年粮食产量是多少？",
        TASK: "我只回答政府工作报告里写了什么，不写诗文、不翻译、也不聊报告以外的话题。"
              "请就报告内容提问，例如：今年城镇新增就业目标是多少？",
    },
    "en": {
        GREETING: "Hello! I answer questions about the government work report, with the "
                  "report's own passages cited. "
                  "Try: What is this year's economic growth target?",
        THANKS: "You're welcome! Ask anything else about the report.",
        HELP: "I answer questions about what the government work report says (targets, "
              "figures, policies, last year's results), quoting the passages the answer "
              "rests on with document, section and character range. "
              "Try: How much grain was produced last year?",
        TASK: "I only answer questions about what the report says; I don't write, "
              "translate or chat about other things. Try: What is this year's growth target?",
    },
}


def smalltalk_kind(question: str) -> str | None:
    """GREETING, THANKS, HELP or TASK when the turn is not a question about a report."""
    text = question.strip()
    for kind, pattern in _KINDS:
        if pattern.search(text):
            return kind
    return None


def reply(kind: str, question: str) -> str:
    """The reply in the question's language (English when it is mostly Latin letters)."""
    letters = sum(c.isascii() and c.isalpha() for c in question)
    cjk = sum("\u4e00" <= c <= "\u9fff" for c in question)
    return REPLIES["en" if letters > 3 * cjk else "zh"][kind]
