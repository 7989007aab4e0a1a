"""Tests for qa.feedback (durable staff flag store) and qa.feedback_cli, on real SQLite."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from qa import feedback_cli
from qa.feedback import (
    COMMENT_MAX_CHARS,
    CSV_COLUMNS,
    SCHEMA_VERSION,
    FeedbackSchemaError,
    FeedbackStore,
    Flag,
    default_feedback_path,
)

ROOT = Path(__file__).resolve().parents[1]

CITATION = {
    "doc_id": "gwr-2024",
    "title": "2024年国务院政府工作报告",
    "section": "一、2023年工作回顾",
    "start": 120,
    "end": 168,
    "chunk_id": "gwr-2024:0003",
    "text": "国内生产总值超过126万亿元，增长5.2%，增速居世界主要经济体前列。",
}


def cite(i: int = 0) -> dict:
    return {**CITATION, "start": i, "end": i + 10, "chunk_id": f"gwr-2024:{i:04d}"}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "feedback.sqlite3"


@pytest.fixture
def store(db: Path):
    with FeedbackStore(db) as s:
        yield s


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _python(code: str, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT,
                            env=_env(), **kw)


def _ids_in_db(db: Path) -> set[int]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {r[0] for r in conn.execute("SELECT id FROM flags")}
    finally:
        conn.close()


# --------------------------------------------------------------------------- roundtrip


def test_add_list_count_export_roundtrip_chinese(store: FeedbackStore, tmp_path: Path):
    assert store.count() == 0
    assert store.list() == []
    q = "2024年经济增长目标是多少？"
    a = "答：国内生产总值增长5%左右。\n依据见[1]。"
    id1 = store.add(q, a, CITATION, "wrong", comment="引用段落不对，应为第二部分。",
                    index_hash="sha256:abc123")
    id2 = store.add("城镇新增就业目标？", "1200万人以上。", cite(7), "confirmed")
    assert isinstance(id1, int) and id2 > id1
    assert store.count() == 2

    flags = store.list()
    assert [f.id for f in flags] == [id1, id2]
    f = flags[0]
    assert isinstance(f, Flag)
    assert (f.verdict, f.question, f.answer) == ("wrong", q, a)
    assert (f.doc_id, f.title, f.section) == ("gwr-2024", CITATION["title"], CITATION["section"])
    assert (f.start, f.end, f.chunk_id) == (120, 168, "gwr-2024:0003")
    assert f.quote == CITATION["text"]
    assert f.comment == "引用段落不对，应为第二部分。"
    assert f.index_hash == "sha256:abc123"
    assert f.created_at.endswith("+00:00") and "T" in f.created_at
    assert flags[1].comment == "" and flags[1].index_hash == "" and flags[1].start == 7
    with pytest.raises(AttributeError):
        f.verdict = "confirmed"  # type: ignore[misc]  # frozen

    assert [x.id for x in store.list(limit=1)] == [id1]
    assert [x.id for x in store.list(limit=1, newest_first=True)] == [id2]
    assert store.list(limit=0) == []
    with pytest.raises(ValueError):
        store.list(limit=-1)

    out = tmp_path / "exports" / "flags.csv"
    assert store.export_csv(out) == 2
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM so Excel reads UTF-8
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with out.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh))
    assert tuple(header) == CSV_COLUMNS
    assert set(CSV_COLUMNS) == {
        "id", "created_at", "verdict", "question", "answer", "doc_id", "title", "section",
        "start", "end", "chunk_id", "quote", "comment", "index_hash"}
    assert len(rows) == 2
    assert rows[0]["question"] == q and rows[0]["answer"] == a  # newline survives quoting
    assert rows[0]["quote"] == CITATION["text"] and rows[0]["title"] == CITATION["title"]
    assert rows[0]["comment"] == "引用段落不对，应为第二部分。"
    assert (rows[0]["id"], rows[0]["start"], rows[0]["end"]) == (str(id1), "120", "168")
    assert rows[1]["verdict"] == "confirmed"
    assert [p.name for p in out.parent.iterdir()] == ["flags.csv"]  # no temp file left
    assert out.stat().st_mode & 0o777 == 0o644


def test_export_empty_store_has_header(store: FeedbackStore, tmp_path: Path):
    out = tmp_path / "empty.csv"
    assert store.export_csv(out) == 0
    with out.open(encoding="utf-8-sig", newline="") as fh:
        assert list(csv.reader(fh)) == [list(CSV_COLUMNS)]


def test_export_is_atomic_and_guards_excel_formulas(store: FeedbackStore, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch):
    store.add("=HYPERLINK(\"http://x\")", "答", CITATION, "wrong", comment="@SUM(1)")
    out = tmp_path / "flags.csv"
    out.write_text("old export", encoding="utf-8")

    import qa.feedback as fb

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(fb, "_write_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        store.export_csv(out)
    assert out.read_text(encoding="utf-8") == "old export"  # old file untouched
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.undo()

    assert store.export_csv(out) == 1
    with out.open(encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["question"] == "'=HYPERLINK(\"http://x\")" and row["comment"] == "'@SUM(1)"
    assert store.export_csv(out, excel_safe=False) == 1
    with out.open(encoding="utf-8-sig", newline="") as fh:
        assert next(csv.DictReader(fh))["comment"] == "@SUM(1)"


# --------------------------------------------------------------------------- validation


def test_bad_verdict_raises(store: FeedbackStore):
    for verdict in ("bad", "Wrong", "", None, "confirmed "):
        with pytest.raises(ValueError, match="verdict"):
            store.add("问", "答", CITATION, verdict)  # type: ignore[arg-type]
    assert store.count() == 0


def test_bad_citation_raises(store: FeedbackStore):
    for bad in ({**CITATION, "start": None}, {k: v for k, v in CITATION.items() if k != "end"},
                {**CITATION, "start": "x"}, {**CITATION, "start": 9, "end": 3},
                {**CITATION, "doc_id": ""}, {**CITATION, "end": -1}):
        with pytest.raises(ValueError):
            store.add("问", "答", bad, "wrong")
    assert store.count() == 0


def test_control_chars_and_nul_stripped_and_long_comment_cut(store: FeedbackStore):
    dirty = "政府\x00工作\x07报告\x1b[31m\x7f\x85\ud800"
    cit = {**CITATION, "title": "标题\x00", "section": "\x0b一、回顾", "chunk_id": "c\x001",
           "text": "引\x00文", "doc_id": "gwr\x00-2024"}
    fid = store.add(dirty, "第一行\r\n第二行\t缩进\x0c", cit, "wrong", comment="评\x00论\x01",
                    index_hash="h\x00ash")
    (f,) = store.list()
    assert f.id == fid
    assert f.question == "政府工作报告[31m"
    assert f.answer == "第一行\n第二行\t缩进"  # newline and tab are kept
    assert (f.title, f.section, f.chunk_id, f.quote) == ("标题", "一、回顾", "c1", "引文")
    assert (f.doc_id, f.comment, f.index_hash) == ("gwr-2024", "评论", "hash")

    store.add("问", "答", CITATION, "confirmed", comment="长" * (COMMENT_MAX_CHARS + 500))
    assert store.list()[-1].comment == "长" * COMMENT_MAX_CHARS


def test_accepts_citation_object(store: FeedbackStore):
    from types import SimpleNamespace

    store.add("问", "答", SimpleNamespace(**CITATION), "confirmed")  # e.g. qa.types.Citation
    assert store.list()[0].quote == CITATION["text"]


# --------------------------------------------------------------------------- durability


def test_pragmas_wal_full_busy_timeout(store: FeedbackStore, db: Path):
    conn = store._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.parent.is_dir()


def test_restart_keeps_everything(db: Path):
    s = FeedbackStore(db)
    ids = [s.add(f"问题{i}", "答", cite(i), "wrong" if i % 2 else "confirmed") for i in range(30)]
    before = s.list()
    s.close()
    with FeedbackStore(db) as again:
        assert again.count() == 30
        assert again.list() == before
        assert [f.id for f in again.list()] == ids
        new = again.add("新问题", "答", CITATION, "wrong")
        assert new > max(ids)
    s.add("closed store reopens lazily", "答", CITATION, "wrong")
    assert s.count() == 32
    s.close()


def test_newer_schema_version_is_refused(db: Path):
    FeedbackStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(FeedbackSchemaError, match="schema version"):
        FeedbackStore(db)


def test_threads_lose_nothing(store: FeedbackStore):
    n_threads, per_thread = 20, 25
    barrier = threading.Barrier(n_threads)
    results: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            barrier.wait()
            results[t] = [store.add(f"线程{t}问题{i}", "答", cite(i), "wrong", comment=f"{t}:{i}")
                          for i in range(per_thread)]
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not errors, errors
    ids = [i for r in results.values() for i in r]
    assert len(ids) == n_threads * per_thread == 500
    assert len(set(ids)) == 500
    assert store.count() == 500
    assert {f.id for f in store.list()} == set(ids)
    assert {f.comment for f in store.list()} == {f"{t}:{i}" for t in range(20) for i in range(25)}


def test_finished_threads_do_not_leak_connections(store: FeedbackStore):
    for i in range(30):  # like a thread pool replacing idle workers
        t = threading.Thread(target=store.add, args=(f"问{i}", "答", cite(i), "wrong"))
        t.start()
        t.join()
    assert store.count() == 30
    assert len(store._conns) <= 2  # this thread's and the last worker's


_WRITER = """
    import sys, time
    from pathlib import Path
    from qa.feedback import FeedbackStore
    db, go, who, n = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    while not go.exists():
        time.sleep(0.005)
    store = FeedbackStore(db)
    cit = {"doc_id": "gwr-2024", "title": "报告", "section": "一", "start": 0, "end": 5,
           "chunk_id": "c0", "text": "引文"}
    i = 0
    while n < 0 or i < n:
        fid = store.add(f"进程{who}问题{i}", "答", cit, "wrong", comment=f"{who}:{i}")
        print(fid, flush=True)
        i += 1
    store.close()
"""


def test_processes_lose_nothing(db: Path, tmp_path: Path):
    """20 processes start writing at the same moment, into a database none of them created."""
    n_procs, per_proc = 20, 25
    go = tmp_path / "go"
    procs = [_python(_WRITER, str(db), str(go), str(p), str(per_proc), stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True) for p in range(n_procs)]
    time.sleep(0.3)  # let them reach the start line
    go.touch()
    printed: list[int] = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        printed += [int(x) for x in out.split()]
    assert len(printed) == n_procs * per_proc == 500
    assert len(set(printed)) == 500
    assert _ids_in_db(db) == set(printed)
    with FeedbackStore(db) as s:
        assert s.count() == 500


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_during_writes_loses_nothing_acknowledged(db: Path, tmp_path: Path):
    go = tmp_path / "go"
    go.touch()
    proc = _python(_WRITER, str(db), str(go), "k", "-1", stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, text=True)
    acked: list[int] = []
    deadline = time.monotonic() + 30
    try:
        assert proc.stdout is not None
        while len(acked) < 50:
            line = proc.stdout.readline()
            assert line, f"writer died early: {proc.stderr.read() if proc.stderr else ''}"
            acked.append(int(line))
            assert time.monotonic() < deadline
        proc.send_signal(signal.SIGKILL)
        acked += [int(x) for x in proc.stdout.read().split()]  # printed before it died
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert len(acked) >= 50
    in_db = _ids_in_db(db)
    assert set(acked) <= in_db
    assert len(in_db) - len(acked) <= 1  # at most one committed but not yet printed
    with FeedbackStore(db) as s:  # reopens cleanly and keeps writing after the crash
        assert s.count() == len(in_db)
        assert s.add("问", "答", CITATION, "confirmed") > max(acked)


# --------------------------------------------------------------------------- default path


def test_default_path_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    target = tmp_path / "elsewhere" / "fb.sqlite3"
    monkeypatch.setenv("GWR_QA_FEEDBACK_DB", str(target))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_feedback_path() == target


def test_default_path_outside_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("GWR_QA_FEEDBACK_DB", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    p = default_feedback_path()
    assert p == tmp_path / "home" / ".local" / "share" / "gwr-qa" / "feedback.sqlite3"
    assert not p.resolve().is_relative_to(ROOT)

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_feedback_path() == tmp_path / "xdg" / "gwr-qa" / "feedback.sqlite3"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")  # ignored, per the XDG spec
    assert default_feedback_path() == p
    assert not p.exists()  # computing the path creates nothing


def test_import_has_no_side_effects(tmp_path: Path):
    env = _env()
    env.pop("GWR_QA_FEEDBACK_DB", None)
    env.pop("XDG_DATA_HOME", None)
    env["HOME"] = str(tmp_path)
    r = subprocess.run([sys.executable, "-c", "import qa.feedback, qa.feedback_cli"], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- CLI
# qa/__main__.py does not register ``feedback`` yet, so the CLI is tested through
# feedback_cli.main and through add_parser on a parser shaped like qa/__main__.py's.


def test_cli_export_and_list(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    with FeedbackStore(db) as s:
        s.add("2024年经济增长目标是多少？", "5%左右", CITATION, "wrong", comment="段落不对")
        s.add("就业目标？", "1200万人", cite(3), "confirmed")
    out = tmp_path / "flags.csv"
    assert feedback_cli.main(["feedback", "export", "--out", str(out), "--db", str(db)]) == 0
    assert "wrote 2 flags" in capsys.readouterr().out
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["verdict"] for r in rows] == ["wrong", "confirmed"]
    assert rows[0]["question"] == "2024年经济增长目标是多少？"

    assert feedback_cli.main(["feedback", "list", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith("id") and "verdict" in lines[0]
    assert "就业目标？" in lines[2] and "confirmed" in lines[2]  # newest first
    assert "段落不对" in lines[3] and "wrong" in lines[3]
    assert "2 of 2 flags shown" in text

    assert feedback_cli.main(["feedback", "list", "--db", str(db), "--limit", "1"]) == 0
    assert "1 of 2 flags shown" in capsys.readouterr().out


def test_cli_default_db_from_env(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]):
    with FeedbackStore(db) as s:
        s.add("问", "答", CITATION, "wrong")
    monkeypatch.setenv("GWR_QA_FEEDBACK_DB", str(db))
    out = tmp_path / "x.csv"
    assert feedback_cli.main(["feedback", "export", "--out", str(out)]) == 0
    assert "wrote 1 flag " in capsys.readouterr().out


def test_cli_missing_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    missing = tmp_path / "nope.sqlite3"
    out = tmp_path / "flags.csv"
    assert feedback_cli.main(["feedback", "export", "--out", str(out), "--db", str(missing)]) == 1
    assert "no feedback database" in capsys.readouterr().err
    assert not missing.exists() and not out.exists()
    assert feedback_cli.main(["feedback", "list", "--db", str(missing)]) == 1
    assert not missing.exists()


def test_cli_requires_action_and_out(capsys: pytest.CaptureFixture[str]):
    for argv in (["feedback"], ["feedback", "export"], ["feedback", "frobnicate"]):
        with pytest.raises(SystemExit) as e:
            feedback_cli.main(argv)
        assert e.value.code == 2
    capsys.readouterr()


def test_add_parser_fits_qa_main_shape(db: Path, tmp_path: Path):
    import argparse

    p = argparse.ArgumentParser(prog="python -m qa")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("ask").set_defaults(func=lambda a: 99)
    feedback_cli.add_parser(sub)
    FeedbackStore(db).close()
    out = tmp_path / "f.csv"
    args = p.parse_args(["feedback", "export", "--out", str(out), "--db", str(db)])
    assert args.cmd == "feedback" and args.func(args) == 0 and out.exists()
