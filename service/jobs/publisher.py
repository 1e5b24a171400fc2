"""Moves outbox rows onto RQ: woken right after a commit that queued work, and on a timer for the rest."""

from __future__ import annotations

import logging
import threading

import redis

from service.db import Database
from service.jobs.queue import publish

log = logging.getLogger(__name__)


class OutboxPublisher:
    """Publishes outbox rows from a relay thread; a Redis outage leaves rows for the next attempt."""

    def __init__(self, db: Database, redis_url: str) -> None:
        self.db = db
        self.connection = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=1)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        """Ask the relay to publish now (called after a commit that wrote outbox rows)."""
        self._wake.set()

    def publish_pending(self) -> int:
        """Publish every unpublished row now; returns how many."""
        total = 0
        while True:
            with self.db.write_lock, self.db.session() as db_session:
                count = publish(db_session=db_session, connection=self.connection)
            total += count
            if count == 0:
                return total

    def start(self, *, interval: float = 1.0) -> None:
        """Run the relay in a daemon thread until `stop()`."""
        self._thread = threading.Thread(
            target=self.run_relay,
            args=(self._stop,),
            kwargs={"interval": interval},
            daemon=True,
            name="outbox-relay",
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run_relay(self, stop: threading.Event, *, interval: float = 1.0) -> None:
        """Loop until `stop` is set, draining the outbox; survives Redis and database outages."""
        while not stop.is_set():
            self._wake.clear()
            try:
                self.publish_pending()
            except (redis.RedisError, OSError) as exc:
                log.warning("redis unavailable, outbox left for the next attempt: %s", type(exc).__name__)
            except Exception:  # the relay must outlive any outage; it retries on the next tick
                log.warning("outbox relay failed; retrying in %.0fs", interval, exc_info=True)
            self._wake.wait(interval)
