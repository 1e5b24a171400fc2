"""Moves outbox rows onto RQ, polling the outbox a few times a second.

The same loop runs the reconciler, which hands lost jobs back to the outbox.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import redis

from service.db import Database, utcnow
from service.jobs.queue import JOB_TIMEOUT, publish
from service.jobs.reconciler import requeue_lost_jobs

log = logging.getLogger(__name__)


class OutboxPublisher:
    """Publishes outbox rows from a relay thread; a Redis outage leaves rows for the next attempt."""

    def __init__(
        self, db: Database, redis_url: str, *, job_timeout: int = JOB_TIMEOUT, reconcile_every: float = 5.0
    ) -> None:
        self.db = db
        self.connection = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=1)
        self.job_timeout = job_timeout
        self.reconcile_every = reconcile_every
        self._last_reconcile = 0.0

    def publish_pending(self) -> int:
        """Publish every unpublished row now; returns how many."""
        total = 0
        while True:
            with self.db.write_lock, self.db.session() as db_session:
                count = publish(
                    db_session=db_session, connection=self.connection, job_timeout=self.job_timeout
                )
            total += count
            if count == 0:
                return total

    def reconcile(self) -> int:
        """Hand lost jobs back to the outbox; returns how many."""
        with self.db.write_lock, self.db.session() as db_session:
            return requeue_lost_jobs(
                db_session=db_session,
                connection=self.connection,
                now=utcnow(),
                grace=timedelta(seconds=self.reconcile_every),
                job_timeout=self.job_timeout,
            )

    def run_relay(self, stop: threading.Event, *, interval: float = 1.0) -> None:
        """Loop until `stop` is set: publish, reconcile now and then; outlives Redis and database outages."""
        while not stop.is_set():
            try:
                self._tick()
            except (redis.RedisError, OSError) as exc:
                log.warning("redis unavailable, outbox left for the next attempt: %s", type(exc).__name__)
            except Exception:  # the relay must outlive any outage; it retries on the next tick
                log.warning("outbox relay failed; retrying in %.0fs", interval, exc_info=True)
            stop.wait(interval)

    def _tick(self) -> None:
        if time.monotonic() - self._last_reconcile >= self.reconcile_every:
            self._last_reconcile = time.monotonic()
            if self.reconcile():
                self.publish_pending()
        self.publish_pending()
