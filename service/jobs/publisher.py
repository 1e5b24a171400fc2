"""Moves outbox rows onto RQ: right after each commit, and again from a relay loop for whatever failed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import redis

from service.db import Database
from service.jobs.queue import publish

log = logging.getLogger(__name__)


class OutboxPublisher:
    """Publishes outbox rows; a Redis outage is logged and left to the relay, never raised to the caller."""

    def __init__(self, db: Database, redis_url: str) -> None:
        self.db = db
        self.connection = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=1)

    def publish_now(self, message_ids: Sequence[int]) -> None:
        """Best-effort publication of just-committed rows."""
        try:
            with self.db.session() as db_session:
                publish(db_session=db_session, connection=self.connection, message_ids=message_ids)
        except (redis.RedisError, OSError) as exc:
            log.warning(
                "redis unavailable, %d job(s) left in the outbox: %s", len(message_ids), type(exc).__name__
            )

    def publish_pending(self) -> int:
        """Publish every unpublished row; returns how many."""
        with self.db.session() as db_session:
            return publish(db_session=db_session, connection=self.connection)

    def run_relay(self, stop: threading.Event, *, interval: float = 1.0) -> None:
        """Loop until `stop` is set, draining the outbox; survives Redis and database outages."""
        while not stop.is_set():
            try:
                while self.publish_pending():
                    pass
            except Exception:  # the relay must outlive any outage; it retries on the next tick
                log.warning("outbox relay failed; retrying in %.0fs", interval, exc_info=True)
            stop.wait(interval)
