"""`triage serve` and `triage worker`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

import uvicorn

from service.app import create_app
from service.config import get_settings
from service.jobs.maintenance import Maintenance
from service.jobs.worker import (
    CHILD_STOP_SECONDS,
    RESTART_DELAY,
    Supervisor,
    run_queue_worker,
    run_worker_pool,
)
from service.ruleset.reloader import RulesReloader
from service.runtime import build_analyzer, build_database, migrate, resolve_redis_url, settle_heap

log = logging.getLogger("triage")
# The supervisor notices a stop within one restart delay, then gives its children their time to finish.
WORKER_STOP_SECONDS = RESTART_DELAY + CHILD_STOP_SECONDS + 4.0


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the API and dashboard (and a worker unless --no-worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-worker", action="store_true", help="do not start a worker beside the API")
    serve.add_argument("--demo", action="store_true", help="create demo credentials and print them")
    serve.add_argument(
        "--intake-workers",
        type=int,
        metavar="N",
        help="processes that analyse and store reports (default: INTAKE_WORKERS, else one per CPU; "
        "0: on the API's own event loop)",
    )
    serve.set_defaults(handler=run_serve)
    worker = commands.add_parser("worker", help="run RQ workers against REDIS_URL")
    worker.add_argument("--queue", help="work this one queue only (default: one process per queue)")
    worker.set_defaults(handler=run_worker)


def run_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    if args.intake_workers is not None:
        settings = settings.model_copy(update={"intake_workers": args.intake_workers})
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.effective_database_url)
    redis_url, _embedded = resolve_redis_url(settings)
    db = build_database(settings)
    app = create_app(settings, db=db, analyzer=build_analyzer(settings), redis_url=redis_url)
    worker = None if args.no_worker else _start_worker()
    base_url = f"http://{args.host}:{args.port}"
    if args.demo:
        from service.cli.demo import print_demo_credentials

        print_demo_credentials(db, base_url=base_url)
    settle_heap()
    print(f"threat-triage serving on {base_url} (API docs at {base_url}/docs)", flush=True)
    _exit_normally_on_sigterm()
    try:
        uvicorn.run(app, host=args.host, port=args.port, access_log=settings.access_log, log_level="info")
    finally:
        if worker is not None:
            _stop_worker(*worker)
    return 0


def _exit_normally_on_sigterm() -> None:
    """uvicorn shuts down gracefully on SIGTERM (`docker stop`, systemd, kill), then raises the signal again
    for the handler it found. Python's default one would end the process on the spot, before the worker pool
    is stopped and before the embedded Redis, which the workers still talk to on their way out (each logged
    a lost connection). This one makes it an ordinary exit: the worker pool first, Redis last."""
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(0))


def _start_worker() -> tuple[Supervisor, threading.Thread]:
    """The worker pool as a supervised child: restarted if it dies, stopped with the server."""
    supervisor = Supervisor({"worker-pool": [sys.executable, "-m", "service.cli", "worker"]})
    thread = threading.Thread(target=supervisor.run, daemon=True, name="worker-supervisor")
    thread.start()
    return supervisor, thread


def _stop_worker(supervisor: Supervisor, thread: threading.Thread) -> None:
    """Stop the worker pool and wait for it: the embedded Redis, stopped as this process exits, must outlive
    the workers' own shutdown, or each of them logs a lost connection on the way out."""
    supervisor.stop()
    thread.join(WORKER_STOP_SECONDS)
    if thread.is_alive():
        log.warning("the worker pool did not stop within %.0f s", WORKER_STOP_SECONDS)


def run_worker(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    redis_url, _embedded = resolve_redis_url(settings)
    if args.queue:
        run_queue_worker(redis_url=redis_url, queue=args.queue, fork=settings.worker_fork)
        return 0
    migrate(settings.effective_database_url)
    db = build_database(settings)

    def upkeep() -> Maintenance:
        analyzer = build_analyzer(settings)
        reloader = RulesReloader(analyzer.rules, settings.rules_dir)
        return Maintenance(db, analyzer, reloader, retention_days=settings.retention_days)

    run_worker_pool(
        db=db,
        redis_url=redis_url,
        job_timeout=settings.job_timeout_seconds,
        reconcile_every=settings.reconcile_seconds,
        maintenance=upkeep,
    )
    return 0
