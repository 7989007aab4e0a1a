"""``python -m eval bench --quick --skip-load`` runs and writes the report files.

Only structure is checked: timings belong in the bench output, not in pass/fail tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run([sys.executable, "-m", "eval", "bench", "--quick", "--skip-load",
                           "--out-dir", str(out)], cwd=REPO, capture_output=True, text=True,
                          timeout=1200)
    return out, proc


@pytest.mark.slow
def test_quick_bench_writes_json_markdown_and_plot(quick_report):
    out, proc = quick_report
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    for key in ("machine", "build", "query", "cold_start", "memory", "load", "scaling",
                "targets"):
        assert key in report, key
    errors = {k: v["error"] for k, v in report.items() if isinstance(v, dict) and "error" in v}
    assert not errors, errors
    assert report["mode"] == "quick"
    assert report["load"] == {"skipped": True}
    for key in ("build_s", "bare_embed_s", "ratio", "throughput_chunks_per_s", "pass"):
        assert key in report["build"], key
    for key in ("p50_ms", "p95_ms", "bare_p50_ms", "ratio_p50", "pass"):
        assert key in report["query"], key
    for key in ("s", "floor_s", "ratio"):
        assert key in report["cold_start"], key
    for key in ("app_peak_rss_mb", "floor_peak_rss_mb", "bench_process_peak_rss_mb"):
        assert key in report["memory"], key
    m = report["machine"]
    for key in ("nproc", "cpu_model", "ram_gb", "python", "libraries", "git_commit",
                "loadavg_start", "loadavg_end"):
        assert key in m, key
    scaling = report["scaling"]
    assert [r["chunks"] for r in scaling["rows"]] == scaling["sizes"]
    for row in scaling["rows"]:
        for level in ("ask", "retrieval"):
            assert set(row[level]) == {"bm25", "dense", "hybrid"}
            assert all({"p50_ms", "p95_ms"} <= set(v) for v in row[level].values())
        assert "memory_mb" in row
    assert "recall_at_10_vs_flat" in scaling["dense_at_largest"]
    assert "synthetic" in scaling and "sum" in scaling["synthetic"]
    names = [t["name"] for t in report["targets"]]
    assert any("build" in n for n in names) and any("p50" in n for n in names)
    assert all(set(t) == {"name", "value", "limit", "pass"} for t in report["targets"])


@pytest.mark.slow
def test_quick_bench_markdown_and_png(quick_report):
    out, proc = quick_report
    assert proc.returncode == 0, proc.stderr[-3000:]
    md = (out / "bench.md").read_text(encoding="utf-8")
    assert "| measure | value | floor" in md and "## Machine" in md and "load average" in md
    assert "## Scaling" in md
    png = (out / "scaling.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
