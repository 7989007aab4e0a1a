"""One Chinese tokenizer for BM25, used identically at build and query time.

jieba in search mode gives whole words plus their sub-words (``煤化工`` → 煤化, 化工, 煤化工),
so a query word matches a longer report term. Report vocabulary (shipped list plus terms
the corpus itself quotes, e.g. “双碳”) is added to jieba's dictionary so it stays whole.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"
_QUOTED = re.compile(r"[“\"「]([\u4e00-\u9fff]{2,8})[”\"」]")
_KEEP = re.compile(r"[\w]", re.UNICODE)
# 几 before a measure word or magnitude asks for a count (几家 = 多少家): the measure word
# stays, as it does after 多少, and 几 goes with the other question words
_HOW_MANY = re.compile(r"^几(?=[个家所项座条次成倍位名台套户件批处十百千万亿])")
# jieba may glue the 少 of 多少 to what follows (造了多/少林, 产多/少量) and the 年 of a
# year word to its dictionary's 年X words (去/年发电量)
_KEPT_WHOLE = re.compile("多少|今年|去年|明年|前年")
# bumped whenever tokenize() cuts differently, so indexes built before ask for a rebuild
_RULES = "2"


def _read_list(name: str) -> list[str]:
    lines = (_DATA / name).read_text(encoding="utf-8").splitlines()
    return [x.strip() for x in lines if x.strip() and not x.startswith("#")]


def shipped_terms() -> list[str]:
    """General government-report vocabulary shipped with the project."""
    return _read_list("terms.txt")


def vocabulary_hash() -> str:
    """Hash of what tokenizes besides the corpus: the shipped terms and stop words and the
    jieba version. An index built under another vocabulary would be queried with tokens
    cut otherwise than its passages' were, so loading it asks for a rebuild."""
    from importlib.metadata import version

    h = hashlib.sha256(f"{version('jieba')}/{_RULES}/{_HOW_MANY.pattern}".encode())
    for name in ("terms.txt", "stopwords.txt"):
        h.update(b"\x1e" + "\n".join(_read_list(name)).encode("utf-8"))
    return h.hexdigest()[:16]


def corpus_terms(texts: Iterable[str]) -> list[str]:
    """Terms the corpus itself marks as such by quoting them (“双碳”, “放管服”), sorted."""
    found: set[str] = set()
    for t in texts:
        found.update(m.group(1) for m in _QUOTED.finditer(t))
    return sorted(found)


class ChineseTokenizer:
    """jieba search-mode tokens, lower-cased, without punctuation and stop words."""

    def __init__(self, extra_terms: Iterable[str] = ()) -> None:
        import jieba

        jieba.setLogLevel(60)
        self.terms: tuple[str, ...] = tuple(sorted(set(shipped_terms()) | set(extra_terms)))
        self._jieba = jieba.Tokenizer()
        self._stop = frozenset(_read_list("stopwords.txt"))
        self._lock = threading.Lock()
        self._ready = False

    def _init(self) -> None:
        with self._lock:
            if self._ready:
                return
            self._jieba.initialize()
            for term in self.terms:
                self._jieba.add_word(term, freq=max(2000, 200 * len(term)))
            self._ready = True

    def tokenize(self, text: str) -> list[str]:
        """Tokens of ``text`` for BM25 (may be empty, e.g. for punctuation only)."""
        if not self._ready:
            self._init()
        tokens: list[str] = []
        for w in self._jieba.cut_for_search(text):
            w, asks = _HOW_MANY.subn("", w.strip().lower())
            if asks and w in tokens:  # 几亿 and 几亿元 both give 亿元
                continue
            if not w or not _KEEP.search(w) or w in self._stop:
                continue
            tokens.append(w)
        return tokens

    def tokenize_question(self, text: str) -> list[str]:
        """Tokens of a question: as :meth:`tokenize`, but cut apart at a 多少 or year word
        (今年, 去年) jieba would split, so the thing asked for stays a word (造了多少林 gives
        林, not 少林; 去年发电量 gives 发电量, not 去 + 年发电量; jieba's own 多少岁 and 今年底
        stay whole). Passages are not cut so: 很多少数民族 is 很多 + 少数民族."""
        if not self._ready:
            self._init()
        found = list(_KEPT_WHOLE.finditer(text))
        if not found:
            return self.tokenize(text)
        ends, at = set(), 0
        for w in self._jieba.cut(text):
            at += len(w)
            ends.add(at)
        pieces, start = [], 0
        for m in found:
            if any(p in ends for p in range(m.start() + 1, m.end())):
                pieces += [text[start:m.start()], m.group()]
                start = m.end()
        pieces.append(text[start:])
        return [t for p in pieces for t in self.tokenize(p)]
