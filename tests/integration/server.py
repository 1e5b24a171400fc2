"""Running the real `triage` console script as a child process, bounded in time."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

TRIAGE = [sys.executable, "-m", "service.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def triage_env(
    *, var_dir: Path, database_url: str | None, redis_url: str | None, **extra: str
) -> dict[str, str]:
    """The environment of a child `triage` process: only what the test chose, plus PATH."""
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({"VAR_DIR": str(var_dir), "ACCESS_LOG": "false", **extra})
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def run_triage(*args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 60) -> str:
    """Run one `triage` command to completion and return its stdout."""
    done = subprocess.run(
        [*TRIAGE, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return done.stdout


@contextmanager
def serving(*args: str, env: dict[str, str], timeout: float = 60) -> Iterator[str]:
    """`triage serve` on a free port until the block ends; yields its base URL. Output goes to VAR_DIR."""
    port = free_port()
    log_path = Path(env["VAR_DIR"]) / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*TRIAGE, "serve", "--port", str(port), *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process, timeout, log_path)
        yield base_url
    finally:
        _stop(process)


def _wait_until_up(base_url: str, process: subprocess.Popen[bytes], timeout: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log_path.read_text(errors="replace")
            raise AssertionError(f"triage serve exited with {process.returncode}:\n{output[-4000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("triage serve did not come up in time")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server; it stops its own worker. The whole group is killed only if that fails."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
