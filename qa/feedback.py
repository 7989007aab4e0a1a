"""Staff feedback on citations ("wrong" / "confirmed"), kept in a durable SQLite store.

Every flag records the question, the answer, the cited location and quote, an optional
comment, the index manifest hash and the time (UTC).  The database runs in WAL mode with
``synchronous=FULL``: once :meth:`FeedbackStore.add` has returned an id, the row is committed
and survives the process being killed.  Writers from many threads and processes are safe:
each thread gets its own connection, writes take the write lock up front (``BEGIN
IMMEDIATE``) and "database is locked" is retried with bounded backoff.

Nothing happens at import time; the database is opened by :class:`FeedbackStore`.
"""

from __future__ import annotations

import builtins
import csv
import dataclasses
import logging
import os
import random
import sqlite3
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "COMMENT_MAX_CHARS",
    "CSV_COLUMNS",
    "SCHEMA_VERSION",
    "VERDICTS",
    "FeedbackSchemaError",
    "FeedbackStore",
    "FeedbackStoreError",
    "Flag",
    "clean_text",
    "default_feedback_path",
]

log = logging.getLogger(__name__)

ENV_DB = "GWR_QA_FEEDBACK_DB"
SCHEMA_VERSION = 1
VERDICTS = frozenset({"wrong", "confirmed"})
COMMENT_MAX_CHARS = 2000
BUSY_TIMEOUT_MS = 10_000
_RETRIES = 8  # attempts after the first, on top of SQLite's own busy_timeout
_BACKOFF_S = 0.05
_BACKOFF_MAX_S = 1.0
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS flags (
    "id"         INTEGER PRIMARY KEY AUTOINCREMENT,
    "created_at" TEXT    NOT NULL,
    "verdict"    TEXT    NOT NULL CHECK ("verdict" IN ('wrong', 'confirmed')),
    "question"   TEXT    NOT NULL,
    "answer"     TEXT    NOT NULL,
    "doc_id"     TEXT    NOT NULL,
    "title"      TEXT    NOT NULL,
    "section"    TEXT    NOT NULL,
    "start"      INTEGER NOT NULL,
    "end"        INTEGER NOT NULL,
    "chunk_id"   TEXT    NOT NULL,
    "quote"      TEXT    NOT NULL,
    "comment"    TEXT    NOT NULL,
    "index_hash" TEXT    NOT NULL
)""",
    'CREATE INDEX IF NOT EXISTS flags_doc ON flags ("doc_id", "start", "end")',
)  # run one by one: executescript() would COMMIT the open transaction first

T = TypeVar("T")


class FeedbackStoreError(RuntimeError):
    """The feedback database cannot be opened or used."""


class FeedbackSchemaError(FeedbackStoreError):
    """The database was written by a newer, unknown schema version."""


@dataclass(frozen=True)
class Flag:
    """One stored flag on one citation."""

    id: int
    created_at: str  # ISO-8601, UTC, e.g. 2025-03-05T08:30:00.123+00:00
    verdict: str  # "wrong" or "confirmed"
    question: str
    answer: str
    doc_id: str
    title: str
    section: str
    start: int
    end: int
    chunk_id: str
    quote: str
    comment: str
    index_hash: str


CSV_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Flag))
_SELECT = "SELECT " + ", ".join(f'"{c}"' for c in CSV_COLUMNS) + " FROM flags"
_INSERT_COLUMNS = CSV_COLUMNS[1:]  # all but id
_INSERT = (
    "INSERT INTO flags (" + ", ".join(f'"{c}"' for c in _INSERT_COLUMNS) + ") VALUES ("
    + ", ".join("?" for _ in _INSERT_COLUMNS) + ")"
)
_KEEP_CONTROLS = frozenset("\n\t")
_EXCEL_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def default_feedback_path() -> Path:
    """``$GWR_QA_FEEDBACK_DB`` if set, else ``$XDG_DATA_HOME/gwr-qa/feedback.sqlite3``.

    ``XDG_DATA_HOME`` defaults to ``~/.local/share`` (and, per the XDG spec, a relative
    value is ignored), so by default the database lives outside the repository.
    """
    explicit = os.environ.get(ENV_DB, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else None
    if base is None or not base.is_absolute():
        base = Path.home() / ".local" / "share"
    return base / "gwr-qa" / "feedback.sqlite3"


def clean_text(value: Any) -> str:
    """``value`` as text without NUL, control characters (bar newline and tab) or lone
    surrogates; ``\\r\\n`` and ``\\r`` become ``\\n``. ``None`` becomes ``""``."""
    if value is None:
        return ""
    s = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        ch for ch in s
        if ch in _KEEP_CONTROLS or unicodedata.category(ch) not in ("Cc", "Cs")
    )


def _as_offset(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"citation {name} must be an integer offset, got {value!r}")
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"citation {name} must be an integer offset, got {value!r}") from None
    if n < 0:
        raise ValueError(f"citation {name} must be >= 0, got {n}")
    return n


def _citation_fields(citation: Mapping[str, Any] | Any) -> dict[str, Any]:
    """Validated doc_id/title/section/start/end/chunk_id/quote from a citation dict
    (or an object with those attributes, such as :class:`qa.types.Citation`)."""
    if isinstance(citation, Mapping):
        get = citation.get
        has = citation.__contains__
    else:
        def get(key: str, default: Any = None) -> Any:
            return getattr(citation, key, default)

        def has(key: str) -> bool:
            return hasattr(citation, key)

    missing = [k for k in ("doc_id", "start", "end") if not has(k) or get(k) is None]
    if missing:
        raise ValueError(f"citation is missing {', '.join(missing)}")
    doc_id = clean_text(get("doc_id"))
    if not doc_id:
        raise ValueError("citation doc_id is empty")
    start, end = _as_offset(get("start"), "start"), _as_offset(get("end"), "end")
    if end < start:
        raise ValueError(f"citation end {end} is before start {start}")
    return {
        "doc_id": doc_id,
        "title": clean_text(get("title", "")),
        "section": clean_text(get("section", "")),
        "start": start,
        "end": end,
        "chunk_id": clean_text(get("chunk_id", "")),
        "quote": clean_text(get("text", "")),
    }


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return True
    msg = str(exc).lower()
    return "database is locked" in msg or "database is busy" in msg or "table is locked" in msg


def _retry(op: Callable[[], T], what: str) -> T:
    """Run ``op``, retrying "database is locked/busy" with bounded exponential backoff."""
    for attempt in range(_RETRIES + 1):
        try:
            return op()
        except sqlite3.OperationalError as e:
            if not _is_busy(e) or attempt == _RETRIES:
                raise
            delay = min(_BACKOFF_MAX_S, _BACKOFF_S * 2**attempt) * (0.5 + random.random())
            log.warning("feedback db busy during %s (%s); retry %d in %.2fs",
                        what, e, attempt + 1, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _excel_safe(value: Any) -> Any:
    """Prefix text Excel would run as a formula with ``'`` (CSV injection guard)."""
    if isinstance(value, str) and value.startswith(_EXCEL_FORMULA_START):
        return "'" + value
    return value


class FeedbackStore:
    """Durable store of staff flags in one SQLite file (WAL, ``synchronous=FULL``).

    Safe to share between threads (one connection per thread) and to use from several
    processes at once. Use as a context manager or call :meth:`close` when done.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path).expanduser()
        self._local = threading.local()
        self._lock = threading.Lock()
        # (owning thread, connection); connections of finished threads are closed on the next
        # open, so a thread pool that replaces its workers does not leak file handles.
        self._conns: builtins.list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._inherited: builtins.list[Any] = []  # from before a fork: never used nor closed
        self._generation = 0
        self._pid = os.getpid()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise FeedbackStoreError(f"cannot create folder for feedback db {self.path}: {e}") \
                from e
        _retry(self._init_schema, "open")

    # ------------------------------------------------------------------ connections

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            raise FeedbackStoreError(f"cannot open feedback db {self.path}: {e}") from e
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = _retry(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone()[0],
                          "journal_mode")
            if str(mode).lower() != "wal":
                log.warning("feedback db %s: WAL not available, journal_mode=%s", self.path, mode)
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as e:
            conn.close()
            raise FeedbackStoreError(f"cannot use feedback db {self.path}: {e}") from e
        return conn

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (and anew after a fork)."""
        pid = os.getpid()
        if pid != self._pid:  # forked: inherited connections must not be used or closed
            with self._lock:
                if pid != self._pid:
                    self._inherited.extend(self._conns)
                    self._conns = []
                    self._pid = pid
                    self._generation += 1
        cached = getattr(self._local, "conn", None)
        if cached is not None and cached[0] == self._generation:
            return cached[1]
        conn = self._connect()
        with self._lock:
            finished = [c for t, c in self._conns if not t.is_alive()]
            self._conns = [(t, c) for t, c in self._conns if t.is_alive()]
            self._conns.append((threading.current_thread(), conn))
            self._local.conn = (self._generation, conn)
        _close_all(finished)
        return conn

    def close(self) -> None:
        """Close every connection this store opened; later calls reopen as needed."""
        with self._lock:
            conns, self._conns = self._conns, []
            self._generation += 1
        _close_all(c for _, c in conns)

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ schema

    def _init_schema(self) -> None:
        conn = self._conn()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        self._check_version(version)
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]  # another writer?
            self._check_version(version)
            if version == 0:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise FeedbackSchemaError(
                f"feedback db {self.path} has schema version {version}, but this program only "
                f"knows version {SCHEMA_VERSION}; upgrade gwr-qa or use another --db")
        if version < 0:
            raise FeedbackSchemaError(f"feedback db {self.path} has bad schema version {version}")

    # ------------------------------------------------------------------ writes

    def add(self, question: str, answer: str, citation: Mapping[str, Any], verdict: str,
            comment: str = "", index_hash: str = "") -> int:
        """Store one flag; returns its id once the row is committed (durable).

        ``citation`` has keys doc_id, title, section, start, end, chunk_id and text (the
        quote). Raises ``ValueError`` for a verdict other than "wrong"/"confirmed" or a
        citation without a valid location. Control characters and NUL are removed from all
        text; the comment is cut to :data:`COMMENT_MAX_CHARS` characters.
        """
        if not isinstance(verdict, str) or verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {sorted(VERDICTS)}, got {verdict!r}")
        c = _citation_fields(citation)
        row = {
            "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "verdict": verdict,
            "question": clean_text(question),
            "answer": clean_text(answer),
            **c,
            "comment": clean_text(comment)[:COMMENT_MAX_CHARS],
            "index_hash": clean_text(index_hash),
        }
        values = tuple(row[k] for k in _INSERT_COLUMNS)

        def insert() -> int:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                rowid = conn.execute(_INSERT, values).lastrowid
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
            if rowid is None:  # pragma: no cover - sqlite always sets it for INSERT
                raise FeedbackStoreError("insert returned no row id")
            return int(rowid)

        return _retry(insert, "add")

    # ------------------------------------------------------------------ reads

    def count(self) -> int:
        """Number of stored flags."""
        return _retry(lambda: self._conn().execute("SELECT count(*) FROM flags").fetchone()[0],
                      "count")

    def list(self, limit: int | None = None, *, newest_first: bool = False
             ) -> builtins.list[Flag]:
        """Stored flags in id order (oldest first unless ``newest_first``), at most ``limit``."""
        sql = _SELECT + (' ORDER BY "id" DESC' if newest_first else ' ORDER BY "id"')
        params: tuple[int, ...] = ()
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise ValueError(f"limit must be a non-negative int or None, got {limit!r}")
            sql += " LIMIT ?"
            params = (limit,)
        rows = _retry(lambda: self._conn().execute(sql, params).fetchall(), "list")
        return [Flag(*r) for r in rows]

    def export_csv(self, out: Path | str, *, excel_safe: bool = True) -> int:
        """Write all flags to ``out`` as CSV (UTF-8 with BOM, header row); returns row count.

        The file is written to a temporary file next to ``out``, flushed to disk and renamed
        over ``out``, so readers never see a half-written export. With ``excel_safe`` text
        cells that Excel would evaluate as formulas (``=``, ``+``, ``-``, ``@``) get a
        leading ``'``.
        """
        out = Path(out).expanduser()
        out.parent.mkdir(parents=True, exist_ok=True)
        rows = _retry(lambda: self._conn().execute(_SELECT + ' ORDER BY "id"').fetchall(),
                      "export")
        fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:
                try:  # keep the mode of the file being replaced; a new export gets rw-r--r--
                    mode = out.stat().st_mode & 0o777
                except FileNotFoundError:
                    mode = 0o644
                os.chmod(f.fileno(), mode)
                _write_csv(f, rows, excel_safe)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, out)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(out.parent)
        return len(rows)


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back an open transaction without hiding the error that caused it."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:  # pragma: no cover - the connection is already broken
            log.exception("feedback db rollback failed")


def _close_all(conns: Iterable[sqlite3.Connection]) -> None:
    for conn in conns:
        try:
            conn.close()
        except sqlite3.Error:  # pragma: no cover - best effort
            pass


def _write_csv(f: Any, rows: Iterable[tuple[Any, ...]], excel_safe: bool) -> None:
    w = csv.writer(f)
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([_excel_safe(v) for v in r] if excel_safe else r)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort; not all platforms allow it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
