"""Report text out of a saved web page (``.html``/``.htm``), with the standard library.

Government sites publish reports as pages wrapped in menus, banners and footers. The
report itself sits in ``<p>`` paragraphs (and ``<h1>``–``<h6>`` headings): when those hold
most of the page's text only they are kept; otherwise every text block is. Scripts,
styles and ``<nav>``/``<header>``/``<footer>``/``<aside>`` never count. Headings become
``#`` lines so that sections survive; the page ``<title>`` without its site suffix
(``…_广东省人民政府门户网站``) names the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "noscript", "template", "nav", "header", "footer",
                   "aside", "form", "select", "button", "iframe", "svg"})
_BLOCK = frozenset({"p", "div", "br", "li", "tr", "td", "th", "section", "article", "main",
                    "table", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "hr",
                    "h1", "h2", "h3", "h4", "h5", "h6", "center", "body"})
_HEADING = re.compile(r"h([1-6])")
# a page title's site part: 2024年政府工作报告_某省人民政府门户网站 / … | 新华网 / … - 中国政府网
_SITE_SUFFIX = re.compile(r"\s*(?:[_|｜]|\s[-–—]\s).*$")
# keep only <p>/<h*> blocks when they hold at least this share of the page's text
_PARAGRAPH_SHARE = 0.5


@dataclass(frozen=True)
class Page:
    """A web page's report text: blank-line separated blocks, and its title (may be "")."""

    title: str
    body: str


class _Blocks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []  # (kind: p | h1..h6 | other, text)
        self.title = ""
        self._skip = 0
        self._in_title = False
        self._kind = "other"
        self._buf: list[str] = []

    def _flush(self) -> None:
        text = re.sub(r"[ \t\r\n\f\v]+", " ", "".join(self._buf)).strip()
        if text:
            self.blocks.append((self._kind, text))
        self._buf = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in _BLOCK and not self._skip:
            self._flush()
            if tag == "p" or _HEADING.fullmatch(tag):
                self._kind = tag

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCK and not self._skip:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in _BLOCK and not self._skip:
            self._flush()
            if tag == self._kind:
                self._kind = "other"

    def close(self) -> None:
        super().close()
        self._flush()  # text after the last block tag

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._buf.append(data)


def html_to_text(html: str) -> Page:
    """The report's blocks and title from an HTML page (see the module docstring)."""
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    blocks = parser.blocks
    total = sum(len(t) for _, t in blocks)
    kept = [(k, t) for k, t in blocks if k != "other"]
    if total and sum(len(t) for _, t in kept) >= _PARAGRAPH_SHARE * total:
        blocks = kept
    lines = [("#" * int(k[1]) + " " + t) if _HEADING.fullmatch(k) else t for k, t in blocks]
    title = _SITE_SUFFIX.sub("", re.sub(r"\s+", " ", parser.title).strip())
    return Page(title if len(title) >= 4 else "", "\n\n".join(lines))
