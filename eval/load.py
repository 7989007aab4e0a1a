"""Load test of the running app: concurrent gradio_client clients asking the ``/ask`` API.

    python -m eval.load [--url http://127.0.0.1:PORT/] [--clients 20] [--questions 1000]
                        [--timeout 900]

Without ``--url`` the real ``app.py`` is started on a free loopback port and stopped at the
end. Only loopback addresses are accepted. The run is bounded: it stops after ``questions``
requests or when ``timeout`` seconds have passed, whichever comes first, and every request has
its own timeout. Questions are drawn cyclically from the built-in question set.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
API_NAME = "/ask"
START_TIMEOUT = 300.0
DEFAULT_CLIENTS = 20
DEFAULT_QUESTIONS = 1000
DEFAULT_TIMEOUT = 900.0  # the whole run
REQUEST_TIMEOUT = 120.0  # one question
# the documented answer JSON (qa.types.Answer.to_json): field -> accepted types
ANSWER_FIELDS: dict[str, tuple[type, ...]] = {
    "question": (str,), "understood": (str,), "answered": (bool,), "answer": (str,),
    "message": (str,), "citations": (list,), "hits": (list,), "confidence": (int, float),
}
HIT_FIELDS: dict[str, tuple[type, ...]] = {
    "rank": (int,), "doc_id": (str,), "chunk_id": (str,), "title": (str,), "section": (str,),
    "start": (int,), "end": (int,), "paragraph": (int,), "text": (str,),
    "score": (int, float), "bm25_rank": (int, type(None)), "dense_rank": (int, type(None)),
}

# no telemetry from gradio_client / huggingface_hub: this talks to loopback only
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def _client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False)


def require_loopback(url: str) -> str:
    """``url`` normalised with a trailing slash; ValueError unless it is a loopback address."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK:
        raise ValueError(f"load tests run against loopback only, not {url!r}")
    return url if url.endswith("/") else url + "/"


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate ``proc``, killing it if it has not exited within 15 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_answers(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url + "config", timeout=timeout) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


# ----- the app under test ---------------------------------------------------------------------
@dataclass
class RunningApp:
    """``app.py`` in a subprocess; ``cold_start_s`` = spawn to the first well-formed answer."""

    proc: subprocess.Popen
    url: str
    log: Path
    server_up_s: float = math.nan
    cold_start_s: float = math.nan
    first_reply: dict = field(default_factory=dict)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def peak_rss_mb(self) -> float | None:
        """The app's peak resident set size so far (VmHWM); None once it has exited."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            return None
        return None

    def stop(self) -> None:
        stop_process(self.proc)


def start_app(log: Path, *, port: int | None = None, index: Path | None = None,
              feedback_db: Path | None = None, first_question: str = "今年地区生产总值增长目标",
              timeout: float = START_TIMEOUT) -> RunningApp:
    """Spawn ``python app.py --port P`` on loopback and wait for its first answer via
    gradio_client; the time from spawn to that answer is the cold start."""
    port = port or free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1"}
    for name in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT"):
        env.pop(name, None)
    if feedback_db is not None:
        env["GWR_QA_FEEDBACK_DB"] = str(feedback_db)
    args = [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)]
    if index is not None:
        args += ["--index", str(index)]
    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "w", encoding="utf-8")  # noqa: SIM115 - closed once the child has it
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    app = RunningApp(proc, f"http://127.0.0.1:{port}/", log)
    deadline = time.monotonic() + timeout
    try:
        while not server_answers(app.url, timeout=1.0):
            if proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {proc.returncode}:\n{app.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"app.py did not answer within {timeout:.0f}s:\n"
                                   f"{app.output()}")
            time.sleep(0.1)
        app.server_up_s = time.perf_counter() - t0
        client = _client(app.url)
        try:
            reply = client.submit(first_question, "[]", api_name=API_NAME).result(
                timeout=max(1.0, deadline - time.monotonic()))
        finally:
            client.close()
        app.cold_start_s = time.perf_counter() - t0
        problems = check_reply(reply, first_question)
        if problems:
            raise RuntimeError(f"the first answer is malformed: {problems}")
        app.first_reply = reply
    except BaseException:
        app.stop()
        raise
    return app


# ----- reply checks ---------------------------------------------------------------------------
def check_reply(reply: object, question: str) -> list[str]:
    """What is wrong with an ``/ask`` reply (empty when it is well-formed)."""
    from qa.text import clean_question

    if not isinstance(reply, dict):
        return [f"reply is {type(reply).__name__}, not a JSON object"]
    problems = []
    for name, types in ANSWER_FIELDS.items():
        if name not in reply:
            problems.append(f"missing {name}")
        elif not isinstance(reply[name], types) or (
                bool not in types and isinstance(reply[name], bool)):
            problems.append(f"{name} is {type(reply[name]).__name__}")
    if problems:
        return problems
    if reply["question"] != clean_question(question).display:
        problems.append(f"question echoed as {reply['question']!r}")
    hits = reply["hits"]
    for n, hit in enumerate(hits, 1):
        if not isinstance(hit, dict):
            problems.append(f"hit {n} is not an object")
            continue
        for name, types in HIT_FIELDS.items():
            if name not in hit:
                problems.append(f"hit {n} lacks {name}")
            elif not isinstance(hit[name], types) or (
                    bool not in types and isinstance(hit[name], bool)):
                problems.append(f"hit {n} {name} is {type(hit[name]).__name__}")
        if any(p.startswith(f"hit {n} ") for p in problems):
            continue
        if hit["rank"] != n:
            problems.append(f"hit {n} has rank {hit['rank']}")
        if not 0 <= hit["start"] < hit["end"] or not hit["text"].strip():
            problems.append(f"hit {n} has an empty or inverted span")
        if not math.isfinite(float(hit["score"])):
            problems.append(f"hit {n} score is not finite")
    if len(reply["citations"]) != len(hits):
        problems.append("citations and hits differ in number")
    if reply["answered"]:
        cited = reply.get("answer_citation")
        texts = [h.get("text", "") for h in hits if isinstance(h, dict)]
        if isinstance(cited, int) and 1 <= cited <= len(texts):
            texts = [texts[cited - 1]]
        if not reply["answer"] or not any(reply["answer"] in t for t in texts):
            problems.append("answered, but the answer is not a quote of its cited passage")
    else:
        if reply["answer"]:
            problems.append("declined, but an answer is given")
        if not reply["message"].strip():
            problems.append("declined without a message")
    return problems


# ----- the load test --------------------------------------------------------------------------
def builtin_questions() -> list[str]:
    from eval.runner import BUILTIN_QUESTIONS
    from eval.scoring import load_questions

    return [it.question for it in load_questions(BUILTIN_QUESTIONS)]


def run_load(url: str, questions: Sequence[str], clients: int = DEFAULT_CLIENTS,
             total: int = DEFAULT_QUESTIONS, timeout: float = DEFAULT_TIMEOUT,
             request_timeout: float = REQUEST_TIMEOUT) -> dict:
    """``clients`` threads, each with its own gradio_client.Client, ask ``total`` questions
    (drawn cyclically from ``questions``) until done or ``timeout`` seconds have passed."""
    from eval.bench import summary_ms

    url = require_loopback(url)
    if not questions:
        raise ValueError("no questions to ask")
    if clients < 1 or total < 1:
        raise ValueError("need at least one client and one question")
    start = time.monotonic()
    deadline = start + timeout
    counter = itertools.count()
    lock = threading.Lock()
    records: list[dict] = []
    client_errors: list[str] = []
    connect_s: list[float] = []

    def worker() -> None:
        t0 = time.perf_counter()
        try:
            client = _client(url)
        except Exception as e:  # noqa: BLE001 - a client that cannot connect is a finding
            with lock:
                client_errors.append(f"{type(e).__name__}: {e}")
            return
        with lock:
            connect_s.append(time.perf_counter() - t0)
        try:
            while True:
                with lock:
                    i = next(counter)
                left = deadline - time.monotonic()
                if i >= total or left <= 0:
                    return
                q = questions[i % len(questions)]
                rec = {"i": i, "question": q, "ok": False}
                t0 = time.perf_counter()
                job = None
                try:
                    job = client.submit(q, "[]", api_name=API_NAME)
                    reply = job.result(timeout=min(request_timeout, left))
                    rec["latency_s"] = time.perf_counter() - t0
                    problems = check_reply(reply, q)
                    rec["problems"] = problems
                    rec["ok"] = not problems
                    rec["answered"] = bool(reply.get("answered")) if isinstance(reply, dict) \
                        else None
                except Exception as e:  # noqa: BLE001 - every failure is counted and shown
                    rec["latency_s"] = time.perf_counter() - t0
                    rec["error"] = f"{type(e).__name__}: {e}"[:300]
                    if job is not None:
                        job.cancel()
                with lock:
                    records.append(rec)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, name=f"load-{n}", daemon=True)
               for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()) + request_timeout + 30)
    wall = time.monotonic() - start
    with lock:
        done = list(records)
    errors = [r for r in done if "error" in r]
    malformed = [r for r in done if "error" not in r and r.get("problems")]
    ok = [r for r in done if r["ok"]]
    lat = summary_ms([r["latency_s"] for r in ok])
    return {
        "url": url,
        "clients": clients,
        "clients_connected": len(connect_s),
        "client_errors": client_errors,
        "requested": total,
        "completed": len(done),
        "ok": len(ok),
        "errors": len(errors),
        "malformed": len(malformed),
        "not_attempted": total - len(done),
        "stopped_by_timeout": len(done) < total and time.monotonic() >= deadline,
        "timeout_s": timeout,
        "request_timeout_s": request_timeout,
        "answered": sum(1 for r in ok if r.get("answered")),
        "declined": sum(1 for r in ok if r.get("answered") is False),
        "latency": lat,
        "p50_ms": lat["p50_ms"],
        "p95_ms": lat["p95_ms"],
        "wall_s": round(wall, 2),
        "throughput_qps": round(len(ok) / wall, 3) if wall > 0 else None,
        "client_connect_p50_ms": summary_ms(connect_s)["p50_ms"] if connect_s else None,
        "error_samples": [f"#{r['i']} {r['question']!r}: {r['error']}" for r in errors[:5]],
        "malformed_samples": [f"#{r['i']} {r['question']!r}: {r['problems'][:3]}"
                              for r in malformed[:5]],
        "passed": (len(ok) == total and not errors and not malformed and not client_errors),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.load", description=__doc__.split("\n")[0])
    p.add_argument("--url", help="a running app on loopback (default: start app.py)")
    p.add_argument("--clients", type=int, default=DEFAULT_CLIENTS)
    p.add_argument("--questions", type=int, default=DEFAULT_QUESTIONS)
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help="seconds for the whole run")
    p.add_argument("--json", type=Path, help="also write the result here")
    args = p.parse_args(argv)
    app = None
    try:
        if args.url:
            url = require_loopback(args.url)
        else:
            tmp = Path(tempfile.mkdtemp(prefix="gwr-load-"))
            app = start_app(tmp / "app.log", feedback_db=tmp / "feedback.sqlite3")
            url = app.url
        result = run_load(url, builtin_questions(), args.clients, args.questions, args.timeout)
        if app is not None:
            result["app_peak_rss_mb"] = app.peak_rss_mb()
    finally:
        if app is not None:
            app.stop()
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
