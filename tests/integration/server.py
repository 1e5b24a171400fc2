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


def run_triage(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 60, cwd: Path | None = None
) -> str:
    """Run one `triage` command to completion and return its stdout (from checkout `cwd`, if given)."""
    done = subprocess.run(
        [*TRIAGE, *args],
        env=env,
        cwd=cwd,
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
    with serving_process(*args, env=env, timeout=timeout) as (base_url, _process):
        yield base_url


@contextmanager
def serving_process(
    *args: str, env: dict[str, str], timeout: float = 60, cwd: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """As `serving`, also yielding the server process (to find its workers). With `cwd`, the server runs
    that checkout's code (`python -m` imports from the working directory first)."""
    port = free_port()
    log_path = Path(env["VAR_DIR"]) / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*TRIAGE, "serve", "--port", str(port), *args],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process, timeout, log_path)
        yield base_url, process
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


def descendants(pid: int) -> list[tuple[int, str]]:
    """Every process below `pid` (children, grandchildren...), with its command line, read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            try:
                command = (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            found.append((child, command))
            todo.append(child)
    return found
