"""``python -m eval report``: compare all retrievers in one process and write a report.

Every question is asked of bm25, dense, naive and hybrid back to back, rotating the order
per question after a warm-up, so machine noise affects all retrievers alike. Writes
``<out-dir>/<name>.md``, ``<name>-hitk.png`` and ``<name>-decline.png``; the run and
score files go to ``<runs-dir>`` (default ``.data/runs``, not in git).
Exit codes: 0 written, 2 bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import hashlib
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eval.scoring import EvalItem
    from qa.engine import QAEngine

EXIT_OK = 0
EXIT_BAD_INPUT = 2
DEFAULT_OUT_DIR = Path(__file__).resolve().parent / "reports"
DEFAULT_NAME = "builtin"
REPO_ROOT = Path(__file__).resolve().parents[1]
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Not in the question set; asked of every retriever before timing starts.
WARMUP_QUESTIONS = ("今年经济增长的预期目标是多少？", "How will the region support private firms?")
PROGRESS_EVERY = 25


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``report``."""
    p = subparsers.add_parser(
        "report",
        help="compare all retrievers and write a Markdown report with plots",
        description="Run bm25, dense, naive and hybrid on a question set (interleaved, "
                    "timed) and write <out-dir>/<name>.md, <name>-hitk.png, "
                    "<name>-decline.png.",
    )
    p.add_argument("--set", default=None, dest="qset",
                   help="a shipped question set by name (eval/sets.py): its questions, its "
                        "report's index and its name")
    p.add_argument("--questions", type=Path, default=None,
                   help="question JSONL (default: the built-in set)")
    p.add_argument("--index", type=Path, default=None,
                   help="index folder (default: the built-in report, built if missing)")
    p.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR,
                   help="where the report and plots go (default: eval/reports)")
    p.add_argument("--name", default=DEFAULT_NAME,
                   help="report name: <name>.md, <name>-*.png (default: builtin)")
    p.add_argument("--runs-dir", type=Path, default=None,
                   help="where run and score JSON files go (default: .data/runs)")
    p.set_defaults(handler=handle)
    return p


# --------------------------------------------------------------------------- running


@dataclasses.dataclass
class Measured:
    """Run records and per-question timings of every retriever, in question order."""

    records: dict[str, list[dict]]
    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]


def warm_up(engine: QAEngine, retrievers: Sequence[str], k: int) -> None:
    """Load the model and fill lazy caches before anything is timed."""
    from qa.lexicon import load as load_dictionary

    load_dictionary()
    for _ in range(2):
        for q in WARMUP_QUESTIONS:
            for r in retrievers:
                engine.ask(q, k=k, retriever=r)


def run_interleaved(engine: QAEngine, items: Sequence[EvalItem], retrievers: Sequence[str],
                    k: int) -> Measured:
    """Ask each question of every retriever, rotating the order per question."""
    from eval.report import interleaved_orders
    from eval.runner import run_record

    out = Measured({r: [] for r in retrievers}, {r: [] for r in retrievers},
                   {r: [] for r in retrievers})
    gc.collect()
    orders = interleaved_orders(retrievers, len(items))
    for i, (it, order) in enumerate(zip(items, orders, strict=True), start=1):
        for r in order:
            c0, t0 = time.process_time(), time.perf_counter()
            ans = engine.ask(it.question, k=k, retriever=r)
            out.wall[r].append(time.perf_counter() - t0)
            out.cpu[r].append(time.process_time() - c0)
            rec = run_record(it.id, ans)
            if "evidence" in ans.extra:
                rec["evidence"] = ans.extra["evidence"]
            out.records[r].append(rec)
        if i % PROGRESS_EVERY == 0 or i == len(items):
            print(f"  {i}/{len(items)} questions", file=sys.stderr, flush=True)
    return out


# --------------------------------------------------------------------------- environment


def _command_output(cmd: Sequence[str]) -> str | None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, cwd=REPO_ROOT,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_commit() -> str:
    """Short HEAD commit, noting uncommitted changes to tracked files; "unknown" without git."""
    commit = _command_output(["git", "rev-parse", "--short", "HEAD"])
    if commit is None:
        return "unknown"
    dirty = _command_output(["git", "status", "--porcelain", "--untracked-files=no"])
    return commit + (" (plus uncommitted changes)" if dirty else "")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _torch_threads() -> str:
    try:
        import torch
    except ImportError:
        return "n/a"
    return str(torch.get_num_threads())


def _rel(path: Path) -> str:
    """``path`` relative to the current folder when inside it, else absolute."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def _file_sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def regenerate_command(args: argparse.Namespace) -> str:
    """The command line that reproduces this report (defaults omitted)."""
    parts = [".venv/bin/python", "-m", "eval", "report"]
    if args.qset:
        parts += ["--set", args.qset]
    if args.questions is not None and not args.qset:
        parts += ["--questions", _rel(args.questions)]
    if args.index is not None and not args.qset:
        parts += ["--index", _rel(args.index)]
    if Path(args.out_dir).resolve() != DEFAULT_OUT_DIR:
        parts += ["--out-dir", _rel(args.out_dir)]
    if args.name != (args.qset or DEFAULT_NAME):
        parts += ["--name", args.name]
    if args.runs_dir is not None:
        parts += ["--runs-dir", _rel(args.runs_dir)]
    return shlex.join(parts)


# --------------------------------------------------------------------------- handler


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def handle(args: argparse.Namespace) -> int:
    """Run ``report``: measure, score, write runs, Markdown and plots."""
    from eval import report, scoring
    from eval.runner import write_run
    from eval.sets import get_set, questions_and_index
    from index.config import data_home
    from index.embedding import ModelUnavailable
    from index.store import IndexLoadError
    from qa.engine import QAConfig, QAEngine

    if not _NAME_RE.match(args.name):
        return _error(f"--name {args.name!r}: use letters, digits, '.', '_' or '-' only")
    try:
        if args.qset and args.name == DEFAULT_NAME:
            args.name = get_set(args.qset).name
        questions_path, index_dir = questions_and_index(args.qset, args.questions, args.index)
        items = scoring.load_questions(questions_path)
        if not items:
            raise ValueError(f"{questions_path}: no questions found")
        engine = QAEngine.from_path(index_dir, QAConfig())
        commit = git_commit()  # the code as loaded, before anyone can commit mid-run
        started_load = _load()
        print(f"warming up ({len(report.REPORT_RETRIEVERS)} retrievers) ...", file=sys.stderr)
        warm_up(engine, report.REPORT_RETRIEVERS, report.MAX_K)
    except (ValueError, OSError, IndexLoadError, ModelUnavailable) as e:
        return _error(str(e))

    print(f"asking {len(items)} questions of {', '.join(report.REPORT_RETRIEVERS)} "
          "(interleaved) ...", file=sys.stderr)
    measured = run_interleaved(engine, items, report.REPORT_RETRIEVERS, report.MAX_K)
    ended_load = _load()

    runs_dir = Path(args.runs_dir) if args.runs_dir else data_home() / "runs"
    out_dir = Path(args.out_dir)
    results: dict[str, dict] = {}
    run_files: list[str] = []
    try:
        for r in report.REPORT_RETRIEVERS:
            run_path = runs_dir / f"{args.name}-{r}.jsonl"
            score_path = runs_dir / f"{args.name}-{r}.score.json"
            write_run(measured.records[r], run_path)
            # score what was written, exactly as `python -m eval score` would
            results[r] = scoring.score(items, scoring.load_run(run_path))
            score_path.write_text(json.dumps(results[r], ensure_ascii=False, indent=2) + "\n",
                                  encoding="utf-8")
            run_files += [_rel(run_path), _rel(score_path)]

        cfg = engine.config
        manifest = engine.index.manifest
        chunk_cfg = manifest.get("config", {}).get("chunk", {})
        table_thresholds = sorted({*report.TABLE_THRESHOLDS, cfg.min_confidence})
        hybrid_records = measured.records["hybrid"]
        settings = [
            ("questions", f"`{_rel(questions_path)}` ({len(items)} questions, "
                          f"sha256 {_file_sha(questions_path)})"),
            ("index", f"`{_rel(index_dir)}`"),
            ("embedding model", f"`{manifest.get('model')}` (dim {manifest.get('dim')})"),
            ("chunking", f"max_chars {chunk_cfg.get('max_chars')}, "
                         f"min_chars {chunk_cfg.get('min_chars')}"),
            ("index corpus hash", f"`{manifest.get('corpus_hash')}`"),
            ("index size", f"{len(engine.index.chunks)} chunks from "
                           f"{len(engine.index.documents)} document(s), dense index "
                           f"{manifest.get('dense_index', 'flat')}"),
            ("passages retrieved per question", str(report.MAX_K)),
            ("git commit (at start)", commit),
            ("date", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")),
            ("machine", f"nproc {_command_output(['nproc']) or os.cpu_count()}, "
                        f"CPU {cpu_model()}, Python {platform.python_version()}, "
                        f"torch threads {_torch_threads()}"),
            ("load average (1/5/15 min) before / after timing", f"{started_load} → {ended_load}"),
        ]
        timing_note = (
            "Timing: one process, model warmed up first "
            f"({len(WARMUP_QUESTIONS)} questions × 2 per retriever, untimed); each question "
            "is asked of all retrievers back to back with the order rotated per question, so "
            "load from other processes hits every retriever alike. Wall time is what a user "
            "waits; CPU time is this process's CPU time (all threads) and is less sensitive "
            "to other load. The per-question ratio pairs the two measurements of each "
            "question and is the most robust comparison."
        )
        name = args.name
        inputs = report.ReportInputs(
            name=name,
            items=items,
            results=results,
            latencies=measured.wall,
            cpu_times=measured.cpu,
            tradeoff=report.decline_tradeoff(hybrid_records, items, table_thresholds),
            min_confidence=cfg.min_confidence,
            qa_config=dataclasses.asdict(cfg),
            settings=settings,
            command=regenerate_command(args),
            hitk_png=f"{name}-hitk.png",
            decline_png=f"{name}-decline.png",
            run_files=run_files,
            timing_note=timing_note,
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        md_path = out_dir / f"{name}.md"
        md_path.write_text(report.render_markdown(inputs), encoding="utf-8")
        n_ans = sum(it.answerable for it in items)
        curves = {r: report.hitk_curve(results[r], items) for r in report.REPORT_RETRIEVERS}
        report.plot_hitk(curves, out_dir / inputs.hitk_png,
                         f"hit@k by retriever ({name}, {n_ans} answerable questions)")
        n_una = len(items) - n_ans
        curve_thresholds = sorted({*report.CURVE_THRESHOLDS, cfg.min_confidence})
        report.plot_decline(report.decline_tradeoff(hybrid_records, items, curve_thresholds),
                            cfg.min_confidence, out_dir / inputs.decline_png,
                            f"hybrid not-found trade-off ({name}: {n_una} unanswerable, "
                            f"{n_ans} answerable)")
    except OSError as e:
        return _error(f"cannot write output: {e}")

    print(report.render_comparison(results, measured.wall))
    print(f"wrote {_rel(md_path)}")
    print(f"wrote {_rel(out_dir / inputs.hitk_png)}")
    print(f"wrote {_rel(out_dir / inputs.decline_png)}")
    print(f"wrote run and score files to {_rel(runs_dir)}/: "
          + ", ".join(Path(p).name for p in run_files))
    return EXIT_OK
