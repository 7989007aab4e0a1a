"""Computations, Markdown and plots behind ``python -m eval report``.

Everything except the two ``plot_*`` functions is pure: plain data in, plain data (or a
Markdown string) out, so it can be unit-tested on hand-made records. Running the engine,
timing and file handling live in :mod:`eval.cli_report`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval import metrics
from eval.scoring import EvalItem, RunRecord

# Report order: single retrievers, the plain-RRF baseline, then the full pipeline.
REPORT_RETRIEVERS = ("bm25", "dense", "naive", "hybrid")
MAX_K = 10
CURVE_THRESHOLDS = tuple(i / 100 for i in range(101))
TABLE_THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
N_WEAKEST = 5
N_FAILURES = 15
PREVIEW_CHARS = 60

Record = Mapping[str, Any] | RunRecord


# --------------------------------------------------------------------------- latency


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation (numpy's default); None if empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be in [0, 100], got {q}")
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def latency_stats(seconds: Sequence[float]) -> dict[str, float | None]:
    """p50 / p95 / mean of per-question latencies, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "mean_ms": metrics.mean_or_none(ms),
    }


def paired_ratio(numer: Sequence[float], denom: Sequence[float]) -> float | None:
    """Median of the per-question ratios numer[i] / denom[i] (pairs with denom 0 skipped).

    Both lists must come from the same questions in the same order; pairing cancels
    noise that hits both measurements of a question alike.
    """
    if len(numer) != len(denom):
        raise ValueError(f"paired lists differ in length: {len(numer)} != {len(denom)}")
    return percentile([a / b for a, b in zip(numer, denom, strict=True) if b > 0], 50)


def interleaved_orders(retrievers: Sequence[str], n_questions: int) -> list[tuple[str, ...]]:
    """Retriever order per question, rotated by one each question.

    Every retriever runs first, second, ... equally often, and all retrievers answer a
    question within moments of each other, so machine noise is shared between them.
    """
    n = len(retrievers)
    if n == 0:
        return [() for _ in range(n_questions)]
    return [tuple(retrievers[(q + j) % n] for j in range(n)) for q in range(n_questions)]


# --------------------------------------------------------------------------- retrieval


def _field(record: Record, name: str, default: Any = None) -> Any:
    if isinstance(record, RunRecord):
        return getattr(record, name, default)
    return record.get(name, default)


def _hit_texts(record: Record) -> list[str]:
    """Hit texts in rank order (stable for equal ranks), from a run dict or RunRecord."""
    if isinstance(record, RunRecord):
        return [h.text for h in record.ordered_hits()]
    hits = sorted(record.get("hits") or [], key=lambda h: h["rank"])
    return [h["text"] for h in hits]


def _by_id(records: Mapping[str, Record] | Iterable[Record]) -> dict[str, Record]:
    if isinstance(records, Mapping):
        return dict(records)
    out: dict[str, Record] = {}
    for r in records:
        out.setdefault(_field(r, "id"), r)
    return out


def _is_score_result(obj: Any) -> bool:
    return isinstance(obj, Mapping) and "per_question" in obj


def first_relevant_ranks(
    result_or_records: Mapping[str, Any] | Mapping[str, Record] | Iterable[Record],
    items: Sequence[EvalItem],
) -> list[int | None]:
    """First relevant rank of each answerable item (None = no relevant hit or no record).

    Accepts a :func:`eval.scoring.score` result (uses its ``per_question`` rows) or run
    records (dicts as written by :func:`eval.runner.run_record`, or ``RunRecord``s).
    """
    answerable = [it for it in items if it.answerable]
    if _is_score_result(result_or_records):
        rows = {r["id"]: r for r in result_or_records["per_question"]}
        return [rows[it.id]["first_relevant_rank"] if it.id in rows else None
                for it in answerable]
    recs = _by_id(result_or_records)
    return [
        metrics.first_relevant_rank(_hit_texts(recs[it.id]), it.answers) if it.id in recs
        else None
        for it in answerable
    ]


def hitk_curve(
    result_or_records: Mapping[str, Any] | Mapping[str, Record] | Iterable[Record],
    items: Sequence[EvalItem],
    max_k: int = MAX_K,
) -> list[float | None]:
    """hit@k for k = 1..max_k over the answerable items (all None if there are none)."""
    ranks = first_relevant_ranks(result_or_records, items)
    if not ranks:
        return [None] * max_k
    return [metrics.hit_at_k(ranks, k) for k in range(1, max_k + 1)]


# --------------------------------------------------------------------------- declining


def declined_at(record: Record | None, threshold: float) -> bool:
    """Would the engine decline this question with ``min_confidence = threshold``?

    The engine answers when ``confidence >= min_confidence``; a question with no record or
    no hits (empty question, nothing retrieved) is declined whatever the threshold.
    Only meaningful for the hybrid pipeline: baselines carry no confidence.
    """
    if record is None:
        return True
    if isinstance(record, RunRecord):
        raise TypeError("RunRecord has no confidence; pass the run-file dicts")
    if not record.get("hits"):
        return True
    return float(record.get("confidence") or 0.0) < threshold


def decline_tradeoff(
    records: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]],
    items: Sequence[EvalItem],
    thresholds: Iterable[float] = CURVE_THRESHOLDS,
) -> list[tuple[float, float | None, float | None]]:
    """(threshold, declined share of unanswerable, wrongly declined share of answerable).

    Recomputes the not-found decision from the recorded confidences for each threshold;
    a share is None when its population is empty.
    """
    recs = _by_id(records)
    una = [recs.get(it.id) for it in items if not it.answerable]
    ans = [recs.get(it.id) for it in items if it.answerable]
    out = []
    for t in thresholds:
        declined = sum(declined_at(r, t) for r in una)
        wrongly = sum(declined_at(r, t) for r in ans)
        out.append((float(t), metrics.rate(declined, len(una)), metrics.rate(wrongly, len(ans))))
    return out


# --------------------------------------------------------------------------- breakdowns


def weakest_groups(result: Mapping[str, Any], n: int = N_WEAKEST) -> list[dict[str, Any]]:
    """The ``n`` question types or sections with the lowest hit@1 (answerable groups only).

    Ties: the larger group first (it matters more), then by kind and name.
    """
    groups = [
        {"kind": kind, "name": name, "hit@1": g["hit@1"], "n": g["n"],
         "answer_acc": g["answer_acc"]}
        for kind, key in (("type", "by_type"), ("section", "by_section"))
        for name, g in result[key].items()
        if g["n"] and g["hit@1"] is not None
    ]
    groups.sort(key=lambda g: (g["hit@1"], -g["n"], g["kind"], g["name"]))
    return groups[:n]


# --------------------------------------------------------------------------- markdown


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a table cell; "n/a" for None."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def md_cell(text: Any) -> str:
    """Text safe inside a Markdown table cell (one line, no column breaks)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def truncate(text: str | None, limit: int = PREVIEW_CHARS) -> str:
    if text is None:
        return "(no hits)"
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]],
             align: Sequence[str] | None = None) -> list[str]:
    """Markdown table lines; ``align`` holds "l"/"r" per column (default: first left)."""
    align = align or ["l"] + ["r"] * (len(headers) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return lines


COMPARISON_HEADERS = (
    "retriever", "hit@1", "hit@3", "hit@5", "hit@10", "MRR@10", "nDCG@10", "answer acc",
    "declined (unans.)", "wrongly declined (ans.)", "p50 ms", "p95 ms",
)


def comparison_rows(
    results: Mapping[str, Mapping[str, Any]], latencies: Mapping[str, Sequence[float]]
) -> list[list[str]]:
    """One row per retriever (in ``results`` order) for the comparison table."""
    rows = []
    for name, res in results.items():
        o = res["overall"]
        lat = latency_stats(latencies.get(name, []))
        rows.append(
            [name]
            + [fmt(o[k]) for k in ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10",
                                   "answer_acc", "declined_rate", "wrongly_declined_rate")]
            + [fmt(lat["p50_ms"], 1), fmt(lat["p95_ms"], 1)]
        )
    return rows


def render_comparison(
    results: Mapping[str, Mapping[str, Any]], latencies: Mapping[str, Sequence[float]]
) -> str:
    """The comparison table alone, as Markdown."""
    return "\n".join(md_table(COMPARISON_HEADERS, comparison_rows(results, latencies)))


def _breakdown_table(groups: Mapping[str, Mapping[str, Any]], label: str) -> list[str]:
    headers = [label, "n", "hit@1", "hit@5", "MRR@10", "answer acc", "n unans.",
               "declined (unans.)"]
    rows = [
        [name or "(none)", g["n"], fmt(g["hit@1"]), fmt(g["hit@5"]), fmt(g["mrr@10"]),
         fmt(g["answer_acc"]), g["n_unanswerable"], fmt(g["declined_rate"])]
        for name, g in groups.items()
    ]
    return md_table(headers, rows)


def _failure_table(failures: Sequence[Mapping[str, Any]], n: int) -> list[str]:
    headers = ["#", "id", "kind", "type / section", "question", "gold", "gold rank",
               "rank-1 passage"]
    rows = [
        [i, f["id"], f["kind"], f"{f['type']} / {f['section'] or '-'}", f["question"],
         " ／ ".join(f["gold"]) or "(unanswerable)",
         "none" if f["first_relevant_rank"] is None else f["first_relevant_rank"],
         truncate(f["rank1_text"])]
        for i, f in enumerate(failures[:n], start=1)
    ]
    return md_table(headers, rows, ["r", "l", "l", "l", "l", "l", "r", "l"])


@dataclass(frozen=True)
class ReportInputs:
    """Everything the Markdown report shows, gathered by the CLI."""

    name: str
    items: Sequence[EvalItem]
    results: Mapping[str, Mapping[str, Any]]  # retriever -> scoring.score() result
    latencies: Mapping[str, Sequence[float]]  # retriever -> wall seconds per question
    cpu_times: Mapping[str, Sequence[float]]  # retriever -> process CPU seconds per question
    tradeoff: Sequence[tuple[float, float | None, float | None]]  # for TABLE_THRESHOLDS
    min_confidence: float
    qa_config: Mapping[str, Any]
    settings: Sequence[tuple[str, str]]  # (label, value) lines
    command: str
    hitk_png: str
    decline_png: str
    run_files: Sequence[str] = field(default_factory=tuple)
    timing_note: str = ""


def _latency_lines(inp: ReportInputs) -> list[str]:
    rows = []
    for name in inp.results:
        wall = latency_stats(inp.latencies.get(name, []))
        cpu = latency_stats(inp.cpu_times.get(name, []))
        rows.append([name, wall["n"], fmt(wall["p50_ms"], 1), fmt(wall["p95_ms"], 1),
                     fmt(wall["mean_ms"], 1), fmt(cpu["p50_ms"], 1), fmt(cpu["p95_ms"], 1)])
    lines = md_table(["retriever", "n", "wall p50 ms", "wall p95 ms", "wall mean ms",
                      "CPU p50 ms", "CPU p95 ms"], rows)
    h, nv = inp.latencies.get("hybrid"), inp.latencies.get("naive")
    if h and nv:
        hs, ns = latency_stats(h), latency_stats(nv)
        p50 = hs["p50_ms"] / ns["p50_ms"] if ns["p50_ms"] else None
        p95 = hs["p95_ms"] / ns["p95_ms"] if ns["p95_ms"] else None
        lines += [
            "",
            f"**Latency ratio hybrid / naive:** p50 {fmt(p50, 2)}×, p95 {fmt(p95, 2)}×; "
            f"median of per-question ratios {fmt(paired_ratio(h, nv), 2)}× "
            f"(CPU time: {fmt(paired_ratio(inp.cpu_times['hybrid'], inp.cpu_times['naive']), 2)}"
            "×).",
        ]
    if inp.timing_note:
        lines += ["", inp.timing_note]
    return lines


def _decline_lines(inp: ReportInputs) -> list[str]:
    rows = []
    for t, declined, wrongly in inp.tradeoff:
        mark = " ← current" if math.isclose(t, inp.min_confidence) else ""
        rows.append([f"{t:.2f}{mark}", fmt(declined), fmt(wrongly)])
    lines = md_table(["min_confidence", "declined (unans.)", "wrongly declined (ans.)"], rows)
    hybrid = inp.results.get("hybrid")
    current = [(d, w) for t, d, w in inp.tradeoff if math.isclose(t, inp.min_confidence)]
    if hybrid is not None and current:
        o = hybrid["overall"]
        actual = (o["declined_rate"], o["wrongly_declined_rate"])
        same = all(a is None and b is None
                   or (a is not None and b is not None and math.isclose(a, b))
                   for a, b in zip(current[0], actual, strict=True))
        lines += ["", "At the current threshold the recomputed shares "
                  + ("match the run's actual decisions." if same else
                     f"differ from the run's actual decisions ({fmt(actual[0])} declined, "
                     f"{fmt(actual[1])} wrongly declined): confidences are rounded to 4 "
                     "decimals in run files.")]
    return lines


def render_markdown(inp: ReportInputs) -> str:
    """The whole report as Markdown."""
    n_ans = sum(it.answerable for it in inp.items)
    n_una = len(inp.items) - n_ans
    hybrid = inp.results.get("hybrid")
    lines = [
        f"# Retrieval QA evaluation report: `{inp.name}`",
        "",
        f"{len(inp.items)} questions ({n_ans} answerable, {n_una} unanswerable), "
        f"{len(inp.results)} retrievers, top {MAX_K} passages each. "
        "Retrieval metrics and answer accuracy are over answerable questions; a passage "
        "is relevant when it contains a gold string. `naive` is plain RRF of BM25 and "
        "dense with the top passage as the answer; `hybrid` is the full pipeline "
        "(expansion, reranking, answer sentence, not-found decision).",
        "",
        f"Regenerate with: `{inp.command}`",
        "",
        "## Comparison",
        "",
    ]
    lines.append(render_comparison(inp.results, inp.latencies))
    lines += ["", f"![hit@k per retriever]({inp.hitk_png})", ""]
    lines += ["## Latency", ""] + _latency_lines(inp) + [""]

    if hybrid is not None:
        weakest = weakest_groups(hybrid)
        named = "; ".join(
            f"{g['kind']} **{g['name'] or '(none)'}** (hit@1 {fmt(g['hit@1'])}, n={g['n']})"
            for g in weakest
        )
        lines += [
            "## Hybrid by question type and section",
            "",
            f"**Weakest {len(weakest)} types or sections for hybrid (by hit@1):** "
            f"{named or 'none'}.",
            "",
            "### By type",
            "",
        ]
        lines += _breakdown_table(hybrid["by_type"], "type")
        lines += ["", "### By section", ""]
        lines += _breakdown_table(hybrid["by_section"], "section")
        failures = hybrid["failures"]
        shown = min(N_FAILURES, len(failures))
        lines += [
            "",
            f"## Hybrid failures (top {shown} of {len(failures)}, worst first)",
            "",
            "Order: retrieval misses, then gold found at a low rank (lowest first), wrong "
            "answers with the gold passage at rank 1, answered unanswerable questions.",
            "",
        ]
        lines += _failure_table(failures, N_FAILURES) if failures else ["none"]
        lines += [
            "",
            "## Not-found trade-off (hybrid)",
            "",
            "The answer is declined when `Answer.confidence < min_confidence`. Recomputed from "
            "the recorded confidences of the hybrid run for each threshold; the current "
            f"setting is {inp.min_confidence:g}.",
            "",
        ]
        lines += _decline_lines(inp)
        lines += ["", f"![not-found trade-off]({inp.decline_png})", ""]

    lines += ["## Settings", ""]
    lines += [f"- {label}: {value}" for label, value in inp.settings]
    lines += ["", "QAConfig:", ""]
    lines += md_table(["field", "value"], [[k, v] for k, v in inp.qa_config.items()],
                      ["l", "r"])
    if inp.run_files:
        lines += ["", "Run and score files (not in git): "
                  + ", ".join(f"`{p}`" for p in inp.run_files)]
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- plots


def _new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> None:
    """PNG without timestamp or version text, so unchanged plots give unchanged bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})


def plot_hitk(curves: Mapping[str, Sequence[float | None]], path: Path, title: str) -> None:
    """hit@k (k = 1..len) lines, one per retriever."""
    fig = _new_figure(7, 4.5)
    ax = fig.subplots()
    markers = "osD^v<>"
    styles = ("--", "-.", ":", "-")
    for i, (name, ys) in enumerate(curves.items()):
        ks = [k for k, y in enumerate(ys, start=1) if y is not None]
        hybrid = name == "hybrid"
        ax.plot(ks, [y for y in ys if y is not None], marker=markers[i % len(markers)],
                linestyle="-" if hybrid else styles[i % len(styles)], label=name,
                linewidth=2.2 if hybrid else 1.4, markersize=7 if hybrid else 5)
    n = max((len(ys) for ys in curves.values()), default=MAX_K)
    ax.set_xticks(range(1, n + 1))
    ax.set_xlim(0.7, n + 0.3)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("k (passages shown)")
    ax.set_ylabel("hit@k (answerable questions)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    _save(fig, path)


def plot_decline(
    tradeoff: Sequence[tuple[float, float | None, float | None]],
    current: float,
    path: Path,
    title: str,
) -> None:
    """Left: declined (unanswerable) vs wrongly declined (answerable) as the threshold moves.
    Right: both shares against the threshold. The current threshold is marked in both."""
    pts = [(t, d, w) for t, d, w in tradeoff if d is not None and w is not None]
    fig = _new_figure(11, 5)
    left, right = fig.subplots(1, 2)
    if pts:
        ts, ds, ws = zip(*pts, strict=True)
        left.plot(ws, ds, marker=".", color="tab:blue")
        cur = min(pts, key=lambda p: abs(p[0] - current))
        left.plot([cur[2]], [cur[1]], marker="o", markersize=10, color="tab:red",
                  linestyle="none", label=f"current min_confidence = {current:g}")
        left.annotate(f"{cur[0]:.2f}", (cur[2], cur[1]), textcoords="offset points",
                      xytext=(8, -14), color="tab:red")
        left.legend(loc="lower right")
        right.plot(ts, ds, label="unanswerable declined (want high)", color="tab:green",
                   drawstyle="steps-post")
        right.plot(ts, ws, label="answerable wrongly declined (want low)", color="tab:orange",
                   drawstyle="steps-post")
    right.axvline(current, color="tab:red", linestyle="--",
                  label=f"current min_confidence = {current:g}")
    left.set_xlabel("answerable questions wrongly declined")
    left.set_ylabel("unanswerable questions declined")
    left.set_title("trade-off as the threshold moves")
    right.set_xlabel("threshold on Answer.confidence")
    right.set_ylabel("share of questions")
    right.set_title("shares by threshold")
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize="small")
    for ax in (left, right):
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(True, alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)
