"""Start the real ``app.py`` as a subprocess on a free localhost port (for the app tests)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from eval.load import free_port, server_answers, stop_process

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 120.0


answers = server_answers  # the same readiness check the load test uses
__all__ = ["REPO", "AppServer", "answers", "free_port", "start_app"]


@dataclass
class AppServer:
    proc: subprocess.Popen
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def stop(self) -> None:
        stop_process(self.proc)


def start_app(args: list[str], log: Path, port: int, env: dict[str, str] | None = None,
              feedback_db: Path | None = None) -> AppServer:
    """Run ``python app.py *args`` and wait until ``http://127.0.0.1:port/`` answers."""
    full_env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    for name in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT"):
        full_env.pop(name, None)
    if feedback_db is not None:
        full_env["GWR_QA_FEEDBACK_DB"] = str(feedback_db)
    full_env.update(env or {})
    out = open(log, "w", encoding="utf-8")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([sys.executable, "app.py", *args], cwd=REPO, env=full_env,
                            stdout=out, stderr=subprocess.STDOUT)
    out.close()
    server = AppServer(proc, f"http://127.0.0.1:{port}/", log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}:\n{server.output()}")
        if answers(server.url):
            return server
        time.sleep(1.0)
    server.stop()
    raise RuntimeError(f"app.py did not answer on port {port} within {START_TIMEOUT:.0f}s:\n"
                       f"{server.output()}")
