"""Read report files (txt, md, jsonl, pdf, docx, html, or folders of them) into Documents.

A bad file never stops the corpus: it becomes a ``CorpusProblem`` naming the file and
the reason, and the other files still load.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from corpus.html import html_to_text
from corpus.layout import repair_layout
from corpus.structure import build_document, infer_report_year, year_from_title
from corpus.types import CorpusError, CorpusProblem, Document, LoadResult

SUPPORTED = (".txt", ".md", ".jsonl", ".pdf", ".docx", ".html", ".htm")
BUILTIN_DIR = Path(__file__).resolve().parent / "data"
_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)


class _FileProblem(Exception):
    """One file cannot be read; the message names why."""


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode report bytes as UTF-8, else GB18030 (GBK); refuse binary data."""
    if not data.strip():
        raise _FileProblem("the file is empty")
    if b"\x00" in data[:4096]:
        raise _FileProblem("this is a binary file, not text (NUL bytes found)")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as e:
        utf8_error = e
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise _FileProblem(
            f"not valid UTF-8 (byte {utf8_error.start}) nor GBK/GB18030; "
            "save it as UTF-8 and add it again"
        ) from None
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    non_ascii = sum(1 for c in text if ord(c) > 127)
    if non_ascii and cjk / non_ascii < 0.6:
        raise _FileProblem(f"not valid UTF-8 (byte {utf8_error.start}); save it as UTF-8")
    return text, "gb18030"


def _front_matter(text: str) -> tuple[dict[str, str], str, int]:
    """Optional ``---`` header of ``key: value`` lines; returns (meta, body, body's first line)."""
    m = _FRONT.match(text.replace("\r\n", "\n"))
    if not m:
        return {}, text, 1
    meta: dict[str, str] = {}
    for line in m.group(1).split("\n"):
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip().lower()] = value.strip()
    body = text.replace("\r\n", "\n")[m.end():]
    return meta, body, m.group(0).count("\n") + 1


_TITLE_LABEL = re.compile(r"^(?:标题|题目|title)\s*[:：]\s*", re.I)


def _guess_title(body: str, stem: str) -> str:
    """The first line when it reads like a title (``标题：`` label and a long bracketed
    subtitle removed), else the file name."""
    for line in body.split("\n"):
        line = line.strip().lstrip("#").strip()
        if line:
            labelled = _TITLE_LABEL.match(line)
            line = line[labelled.end():] if labelled else line
            cut = line.find("（", 6)
            if len(line) > 40 and cut > 0:
                line = line[:cut]
            # a salutation (各位代表：) or a sentence is not a title
            if line and len(line) <= 40 and line[-1] not in "。！？；，.：:":
                return line
            break
    return stem


def _make_doc(
    doc_id: str, title: str, source: str, year: int | None, body: str, first_line: int = 1,
    hard_wrapped: bool | None = None,
) -> Document:
    paragraphs = repair_layout(body, first_line, hard_wrapped)
    if not paragraphs:
        raise _FileProblem("no text left after cleaning")
    doc = build_document(doc_id, title, source, year, paragraphs)
    if doc.year is None:
        doc = replace(doc, year=infer_report_year(doc))
    return doc


def _parse_year(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        y = int(str(value).strip())
    except ValueError:
        raise _FileProblem(f"year {value!r} is not a number") from None
    if not 1900 <= y <= 2200:
        raise _FileProblem(f"year {y} is out of range")
    return y


def _read_text_file(path: Path) -> list[Document]:
    text, _ = decode_bytes(path.read_bytes())
    meta, body, first_line = _front_matter(text)
    title = meta.get("title") or _guess_title(body, path.stem)
    year = _parse_year(meta.get("year")) or year_from_title(title)
    doc_id = meta.get("id") or path.stem
    return [_make_doc(doc_id, title, str(path), year, body, first_line)]


def _read_jsonl(path: Path, problems: list[CorpusProblem]) -> list[Document]:
    text, _ = decode_bytes(path.read_bytes())
    docs: list[Document] = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(CorpusProblem(where, f"invalid JSON ({e.msg})"))
            continue
        if not isinstance(obj, dict):
            problems.append(CorpusProblem(where, "each line must be a JSON object"))
            continue
        body = obj.get("text")
        if not isinstance(body, str) or not body.strip():
            problems.append(CorpusProblem(where, "missing or empty \"text\" field"))
            continue
        doc_id = str(obj.get("id") or f"{path.stem}-{n}")
        title = str(obj.get("title") or doc_id)
        try:
            year = _parse_year(obj.get("year")) or year_from_title(title)
            docs.append(_make_doc(doc_id, title, str(obj.get("source") or where), year, body))
        except _FileProblem as e:
            problems.append(CorpusProblem(where, str(e)))
    return docs


def _read_pdf(path: Path) -> list[Document]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, OSError, ValueError) as e:
        raise _FileProblem(f"cannot read this PDF ({e})") from None
    body = "\n".join(pages)
    if not body.strip():
        raise _FileProblem("the PDF has no text layer (a scan?); run OCR on it first")
    meta_title = (reader.metadata.title if reader.metadata else None) or ""
    title = meta_title.strip() or _guess_title(body, path.stem)
    return [_make_doc(path.stem, title, str(path), year_from_title(title), body)]


def _read_docx(path: Path) -> list[Document]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        d = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as e:
        raise _FileProblem(f"cannot read this DOCX ({e})") from None
    lines: list[str] = []
    for p in d.paragraphs:
        style = (p.style.name if p.style is not None else "") or ""
        m = re.match(r"Heading (\d)", style)
        if m and p.text.strip():
            lines.append("#" * int(m.group(1)) + " " + p.text.strip())
        else:
            lines.append(p.text)
    body = "\n".join(lines)
    if not body.strip():
        raise _FileProblem("the DOCX has no text")
    title = (d.core_properties.title or "").strip() or _guess_title(body, path.stem)
    return [_make_doc(path.stem, title, str(path), year_from_title(title), body,
                      hard_wrapped=False)]


def _read_html(path: Path) -> list[Document]:
    text, _ = decode_bytes(path.read_bytes())
    page = html_to_text(text)
    if not page.body.strip():
        raise _FileProblem("the web page has no text")
    title = page.title or _guess_title(page.body, path.stem)
    return [_make_doc(path.stem, title, str(path), year_from_title(title), page.body,
                      hard_wrapped=False)]


def _expand(paths: Iterable[Path], problems: list[CorpusProblem]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED)
            if not found:
                problems.append(CorpusProblem(str(p), f"no {'/'.join(SUPPORTED)} files in folder"))
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            problems.append(CorpusProblem(str(p), "no such file or folder"))
    return files


def load_corpus(paths: Iterable[str | Path]) -> LoadResult:
    """Load every readable document under ``paths``; unreadable ones become problems."""
    problems: list[CorpusProblem] = []
    docs: list[Document] = []
    seen: set[str] = set()
    for f in _expand([Path(p) for p in paths], problems):
        suffix = f.suffix.lower()
        try:
            if suffix in (".txt", ".md"):
                new = _read_text_file(f)
            elif suffix == ".jsonl":
                new = _read_jsonl(f, problems)
            elif suffix == ".pdf":
                new = _read_pdf(f)
            elif suffix == ".docx":
                new = _read_docx(f)
            elif suffix in (".html", ".htm"):
                new = _read_html(f)
            else:
                raise _FileProblem(f"unsupported file type {suffix!r}; use {', '.join(SUPPORTED)}")
        except _FileProblem as e:
            problems.append(CorpusProblem(str(f), str(e)))
            continue
        except OSError as e:
            problems.append(CorpusProblem(str(f), f"cannot read ({e.strerror or e})"))
            continue
        for d in new:
            if d.id in seen:
                problems.append(CorpusProblem(d.source, f"duplicate document id {d.id!r}; skipped"))
                continue
            seen.add(d.id)
            docs.append(d)
    return LoadResult(tuple(docs), tuple(problems))


def load_documents(paths: Iterable[str | Path]) -> list[Document]:
    """Like ``load_corpus`` but raises ``CorpusError`` when nothing at all could be read."""
    paths = list(paths)
    result = load_corpus(paths)
    if not result.documents:
        detail = "; ".join(str(p) for p in result.problems) or "no files given"
        raise CorpusError(f"no readable documents in {[str(p) for p in paths]}: {detail}")
    return list(result.documents)


def load_builtin() -> list[Document]:
    """The built-in corpus shipped in ``corpus/data`` (the Inner Mongolia 2023 report)."""
    return load_documents([BUILTIN_DIR])
