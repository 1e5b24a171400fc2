"""Worker processes: one RQ worker per queue (rq #1716), supervised, plus the outbox relay."""

from __future__ import annotations

import importlib
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import redis
from rq import Queue, SimpleWorker, Worker
from rq.serializers import JSONSerializer

from service.db import Database
from service.jobs.children import die_with_parent
from service.jobs.maintenance import Maintenance
from service.jobs.publisher import OutboxPublisher
from service.jobs.queue import QUEUES
from service.runtime import settle_heap

log = logging.getLogger(__name__)
RESTART_DELAY = 1.0
# A stopped supervisor's children get this long to finish their jobs, then are killed.
CHILD_STOP_SECONDS = 15.0
RELAY_INTERVAL = 0.2  # seconds between outbox polls: an indexed look-up for unpublished rows


def run_queue_worker(*, redis_url: str, queue: str, fork: bool = False) -> None:
    """Work one queue until stopped; the scheduler is on because retries with a delay need it.

    By default jobs run in the worker process itself (RQ's SimpleWorker): a fork per job costs ~8 ms and a
    fresh database connection, where our jobs take a few milliseconds and are pure Python that cannot
    poison the process. A worker that dies anyway is restarted by its supervisor, and its job is published
    again by the reconciler. `WORKER_FORK=true` restores RQ's forking worker.
    """
    # The jobs' modules load now, not at the first job, so that what they build is frozen with the rest.
    importlib.import_module("workers.jobs")
    settle_heap()
    connection = redis.Redis.from_url(redis_url)
    worker_class = Worker if fork else SimpleWorker
    worker = worker_class(
        [Queue(queue, connection=connection, serializer=JSONSerializer)],
        connection=connection,
        serializer=JSONSerializer,
    )
    worker.work(with_scheduler=True, logging_level="WARNING")


class Supervisor:
    """Keeps child processes alive: a child that dies is started again, until `stop()`."""

    def __init__(self, commands: dict[str, list[str]]) -> None:
        self.commands = commands
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = threading.Event()
        self._stop_requested = False

    def run(self) -> None:
        """Start every child and restart the ones that exit; returns once stopped."""
        while not (self._stop_requested or self.stopping.is_set()):
            for name, command in self.commands.items():
                child = self.children.get(name)
                if child is None or child.poll() is not None:
                    if child is not None:
                        log.warning("%s exited with %s; restarting", name, child.returncode)
                    self.children[name] = subprocess.Popen(command, preexec_fn=die_with_parent)  # noqa: S603, PLW1509
            # A plain sleep, not Event.wait: a signal handler that sets an Event while this thread waits on
            # it can deadlock on the Event's own lock (it happened: a worker pool that ignored SIGTERM).
            time.sleep(RESTART_DELAY)
        self.stopping.set()
        self._terminate_children()

    def stop(self) -> None:
        """Stop from another thread."""
        self.stopping.set()

    def request_stop(self, *_: object) -> None:
        """Stop from a signal handler: only a flag is set, no lock is taken."""
        self._stop_requested = True

    def _terminate_children(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + CHILD_STOP_SECONDS
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()


def worker_commands(queues: tuple[str, ...] = QUEUES) -> dict[str, list[str]]:
    """One `triage worker --queue Q` child per queue."""
    return {
        f"worker:{queue}": [sys.executable, "-m", "service.cli", "worker", "--queue", queue]
        for queue in queues
    }


def run_worker_pool(
    *,
    db: Database,
    redis_url: str,
    job_timeout: int,
    reconcile_every: float,
    maintenance: Callable[[], Maintenance] | None,
) -> None:
    """`triage worker`: the outbox relay and the upkeep in threads, and a supervised worker per queue."""
    publisher = OutboxPublisher(db, redis_url, job_timeout=job_timeout, reconcile_every=reconcile_every)
    supervisor = Supervisor(worker_commands())
    relay = threading.Thread(
        target=publisher.run_relay,
        args=(supervisor.stopping,),
        kwargs={"interval": RELAY_INTERVAL},
        daemon=True,
        name="outbox-relay",
    )
    relay.start()
    if maintenance is not None:
        # Built in its own thread: loading the rules and the geo data takes seconds, and the queue workers
        # (which need neither) should be taking jobs meanwhile.
        threading.Thread(
            target=lambda: maintenance().run(supervisor.stopping), daemon=True, name="upkeep"
        ).start()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, supervisor.request_stop)
    supervisor.run()
    relay.join(timeout=5)
