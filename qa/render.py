"""An Answer as safe HTML for the chat: quotes with <mark> highlights, context, staff details.

Every piece of text (the question, corpus text, titles, messages) goes through :func:`esc`,
which HTML-escapes it and additionally turns Markdown/LaTeX/autolink syntax characters into
numeric character references, so nothing a user or a document contains can become markup,
a link, an image or a formula, even if the chat component ever rendered Markdown.
Quotes are always slices of ``Citation.text`` / ``Answer.answer`` (or, for the context, the
report paragraph), shown unaltered: highlighting only wraps spans in tags.

Pure functions, no I/O; the chat layer (:mod:`qa.chat`) fetches the contexts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from qa.text import clean_question
from qa.types import Answer, Citation, Span

# Characters that mean something to Markdown (marked + GFM), KaTeX auto-render or autolinks.
_MARKUP_CHARS = "\\`*_{}[]()#+-!|~$:@="
_ENTITY = {ord(c): f"&#{ord(c)};" for c in _MARKUP_CHARS}
# One pass, so an entity produced for one character is never escaped again.
_ESCAPES = {**_ENTITY, ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;",
            ord('"'): "&quot;", ord("'"): "&#39;"}

CONTEXT_LABEL = "查看上下文 / view in context"
LOW_CONFIDENCE_LABEL = "低置信度 / low confidence"
NOT_FOUND_FALLBACK = "报告中没有找到与此相关的内容。"

# Styles for the reply HTML (passed to ``launch(css=...)`` by app.py).
REPLY_CSS = """
.gwr-reply { line-height: 1.65; font-size: 15px; }
.gwr-reply blockquote { margin: 4px 0 6px; padding: 6px 10px; border-left: 4px solid #94a3b8;
  background: rgba(148, 163, 184, 0.10); white-space: pre-wrap; }
.gwr-notice { color: #92400e; background: #fef3c7; padding: 4px 8px; border-radius: 6px;
  margin-bottom: 6px; }
.gwr-understood { color: #475569; font-size: 13px; margin-bottom: 6px; }
.gwr-label { font-weight: 600; display: block; margin-bottom: 2px; }
.gwr-answer blockquote { border-left-color: #2563eb; background: rgba(37, 99, 235, 0.07);
  font-size: 16px; }
.gwr-ref { color: #2563eb; font-weight: 600; }
.gwr-reply mark { padding: 0 1px; border-radius: 3px; color: inherit; }
.gwr-reply mark.gwr-key { background: #fde047; color: #111827; font-weight: 700; }
.gwr-reply mark.gwr-hl { background: #bfdbfe; color: #111827; }
.gwr-reply mark.gwr-ctx { background: rgba(253, 224, 71, 0.35); color: inherit; }
.gwr-ans { text-decoration: underline 2px #2563eb; text-underline-offset: 3px; }
.gwr-sources-title { font-weight: 600; margin: 10px 0 4px; }
.gwr-cite { border: 1px solid rgba(148, 163, 184, 0.45); border-radius: 8px;
  padding: 6px 10px; margin: 6px 0; }
.gwr-cite-head { font-weight: 600; }
.gwr-num { color: #2563eb; margin-right: 4px; }
.gwr-section { font-weight: 400; color: #475569; }
.gwr-loc { font-size: 12px; color: #64748b; }
.gwr-context summary { cursor: pointer; color: #2563eb; font-size: 13px; }
.gwr-context .gwr-para { margin-top: 4px; padding: 6px 10px; white-space: pre-wrap;
  background: rgba(148, 163, 184, 0.08); border-radius: 6px; font-size: 14px; }
.gwr-para-head { font-size: 12px; color: #64748b; }
.gwr-notfound { font-weight: 600; font-size: 16px; }
.gwr-message { font-weight: 600; }
.gwr-lowconf { margin-top: 10px; border: 2px dashed #f59e0b; border-radius: 8px;
  padding: 6px 10px; background: rgba(245, 158, 11, 0.06); }
.gwr-lowconf-title { color: #b45309; font-weight: 700; }
.gwr-badge { display: inline-block; background: #f59e0b; color: #fff; border-radius: 4px;
  padding: 0 6px; font-size: 12px; margin-right: 6px; }
.gwr-staff { font-size: 12px; color: #334155; margin-top: 4px; padding: 4px 8px;
  background: rgba(100, 116, 139, 0.10); border-radius: 6px; }
.gwr-staff pre { white-space: pre-wrap; user-select: all; margin: 4px 0 0; font-size: 12px; }
.gwr-question { white-space: pre-wrap; }
"""


def esc(text: object) -> str:
    """Text → HTML that displays exactly that text and can never become markup."""
    return str(text).translate(_ESCAPES)


def _clean_spans(spans: Iterable[Span] | None, n: int) -> list[Span]:
    out = []
    for span in spans or ():
        a, b = max(0, int(span[0])), min(n, int(span[1]))
        if a < b:
            out.append((a, b))
    return out


def highlight(
    text: str,
    *,
    terms: Sequence[Span] = (),
    keys: Sequence[Span] = (),
    sentence: Span | None = None,
    passage: Span | None = None,
) -> str:
    """``text`` escaped, with spans wrapped: ``terms`` in <mark class="gwr-hl">, ``keys`` in
    <mark class="gwr-key">, ``sentence`` in <span class="gwr-ans"> and ``passage`` in
    <mark class="gwr-ctx">. Overlaps are split into segments, so tags always nest properly;
    the visible text is ``text`` unchanged."""
    n = len(text)
    layers = {
        "passage": _clean_spans([passage] if passage else (), n),
        "sentence": _clean_spans([sentence] if sentence else (), n),
        "key": _clean_spans(keys, n),
        "term": _clean_spans(terms, n),
    }
    cuts = {0, n}
    for spans in layers.values():
        for a, b in spans:
            cuts.update((a, b))
    bounds = sorted(cuts)
    parts = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        if a >= b:
            continue
        inside = {name: any(x <= a and b <= y for x, y in spans)
                  for name, spans in layers.items()}
        piece = esc(text[a:b])
        if inside["key"]:
            piece = f'<mark class="gwr-key">{piece}</mark>'
        elif inside["term"]:
            piece = f'<mark class="gwr-hl">{piece}</mark>'
        if inside["sentence"]:
            piece = f'<span class="gwr-ans">{piece}</span>'
        if inside["passage"]:
            piece = f'<mark class="gwr-ctx">{piece}</mark>'
        parts.append(piece)
    return "".join(parts)


def reinterpreted(answer: Answer) -> bool:
    """True when the question was understood differently from how it was typed (a resolved
    follow-up, removed markup), not merely normalised (full-width ``？`` → ``?``)."""
    u = answer.understood
    return bool(u) and u != answer.question and u != clean_question(answer.question).query


def render_question(question: str) -> str:
    """The user's question as shown back in the chat (escaped, never markup)."""
    shown = question if question.strip() else "（空问题 / empty question）"
    return f'<div class="gwr-question">{esc(shown)}</div>'


def _fmt_rank(rank: int | None) -> str:
    return "—" if rank is None else str(rank)


def render_staff(c: Citation) -> str:
    """Retrieval details of one passage and the citation as copyable plain text."""
    return (
        '<div class="gwr-staff">'
        f"BM25 排名 / rank: <b>{esc(_fmt_rank(c.bm25_rank))}</b> · "
        f"向量排名 / dense rank: <b>{esc(_fmt_rank(c.dense_rank))}</b> · "
        f"融合得分 / fused score: <b>{esc(f'{c.score:.4f}')}</b> · "
        f"chunk <code>{esc(c.chunk_id)}</code>"
        f"<pre>{esc(c.as_text())}</pre>"
        "</div>"
    )


def render_context(ctx) -> str:
    """A collapsed <details> with the report paragraph around the passage."""
    return (
        f'<details class="gwr-context"><summary>{esc(CONTEXT_LABEL)}</summary>'
        f'<div class="gwr-para"><div class="gwr-para-head">{esc(ctx.title)} › '
        f"{esc(ctx.section)} · 第{esc(ctx.paragraph)}段</div>"
        f"{highlight(ctx.text, passage=(ctx.passage_start, ctx.passage_end))}</div>"
        "</details>"
    )


def render_citation(c: Citation, *, context=None, staff: bool = False) -> str:
    """One numbered citation: title, section, location, highlighted passage, context."""
    body = highlight(c.text, terms=c.highlights, keys=c.key_spans, sentence=c.answer_span)
    parts = [
        '<div class="gwr-cite">',
        f'<div class="gwr-cite-head"><span class="gwr-num">[{int(c.number)}]</span>'
        f'<span class="gwr-title">{esc(c.title)}</span> › '
        f'<span class="gwr-section">{esc(c.section)}</span></div>',
        f'<div class="gwr-loc">{esc(c.location())}</div>',
        f'<blockquote class="gwr-passage">{body}</blockquote>',
    ]
    if context is not None:
        parts.append(render_context(context))
    if staff:
        parts.append(render_staff(c))
    parts.append("</div>")
    return "".join(parts)


def render_answer(
    answer: Answer,
    *,
    contexts: Mapping[str, object] | None = None,
    staff: bool = False,
) -> str:
    """The whole reply: notices, "理解为", the answer sentence, then numbered citations.

    ``contexts`` maps chunk ids to :class:`qa.engine.Context` (see ``QAEngine.context``);
    citations without one simply have no "view in context" section.
    """
    contexts = contexts or {}
    out = ['<div class="gwr-reply">']
    for notice in answer.notices:
        out.append(f'<div class="gwr-notice">⚠ {esc(notice)}</div>')
    if reinterpreted(answer):
        out.append(f'<div class="gwr-understood">理解为 / understood as：'
                   f"{esc(answer.understood)}</div>")
    cites = "".join(render_citation(c, context=contexts.get(c.chunk_id), staff=staff)
                    for c in answer.citations)
    if answer.answered:
        ref = f' <span class="gwr-ref">[{int(answer.answer_citation)}]</span>' \
            if answer.answer_citation else ""
        out.append(f'<div class="gwr-answer"><span class="gwr-label">答 / Answer{ref}</span>'
                   f'<blockquote class="gwr-quote">'
                   f"{highlight(answer.answer, keys=answer.answer_key_spans)}</blockquote></div>")
        if staff:
            out.append(f'<div class="gwr-staff">置信度 / confidence: '
                       f"{esc(f'{answer.confidence:.3f}')}</div>")
        if cites:
            out.append(f'<div class="gwr-sources-title">出处 / Sources</div>{cites}')
    elif answer.citations:
        out.append(f'<div class="gwr-notfound">{esc(answer.message or NOT_FOUND_FALLBACK)}</div>')
        out.append('<div class="gwr-lowconf"><div class="gwr-lowconf-title">'
                   f'<span class="gwr-badge">{esc(LOW_CONFIDENCE_LABEL)}</span>'
                   "最接近的段落，可能并不回答这个问题 / closest passages, may not answer the "
                   "question</div>")
        if staff:
            out.append(f'<div class="gwr-staff">置信度 / confidence: '
                       f"{esc(f'{answer.confidence:.3f}')}</div>")
        out.append(f"{cites}</div>")
    else:
        out.append(f'<div class="gwr-message">{esc(answer.message)}</div>')
    out.append("</div>")
    return "".join(out)

