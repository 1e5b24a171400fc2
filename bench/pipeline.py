"""Pipeline benchmark: from POST /v1/reports to the case standing, enriched, in the analysts' queue.

    python bench/pipeline.py [--database-url URL] [--rate 100] [--seconds 20] [--jobs 2000]

Phase 1 sends high-risk SMS reports at a steady rate (open loop) to `triage serve` with its worker pool and
reports p50/p95 of (enriched_at - send time). Phase 2 measures worker throughput: reports are stored with no
worker running, then 1 and then 2 `triage worker --queue enrich` processes drain their jobs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import cpu_seconds
from service.db import Database
from service.ingest.models import Report
from service.jobs.publisher import OutboxPublisher
from service.jobs.redis_server import EmbeddedRedis
from service.runtime import migrate
from tests.integration.server import TRIAGE, descendants, run_triage, serving, serving_process, triage_env

THREAT = "Mày không chuyển 50 triệu trước thứ 6 thì tao giết cả nhà mày, nhớ đấy. Mã số {}."
BENIGN = "Quý khách đã nạp thành công 100.000đ vào tài khoản, mã giao dịch {}. Cảm ơn quý khách."


def report(index: int, text: str) -> dict[str, object]:
    return {"channel": "sms", "reporter": {"msisdn": f"0912{index:06d}"},
            "sms": {"sender": f"096{index:07d}", "text": text.format(index)}}  # fmt: skip


async def steady_load(
    base_url: str, key: str, rate: float, seconds: float, *, quiet: bool = False
) -> dict[str, float]:
    """Send at `rate`/s for `seconds`; returns report id -> send time (epoch seconds)."""
    sent: dict[str, float] = {}
    answered: list[float] = []
    failures: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=30) as client:

        async def one(index: int, due: float) -> None:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            started = time.time()
            try:
                response = await client.post("/v1/reports", json=report(index, THREAT))
            except httpx.HTTPError as exc:  # an overloaded server: counted, and the run goes on
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                return
            answered.append((time.time() - started) * 1000)
            if response.status_code == 201:
                sent[response.json()["id"]] = started

        start = time.monotonic()
        await asyncio.gather(*(one(i, start + i / rate) for i in range(int(rate * seconds))))
    answered.sort()
    if quiet:
        return sent
    if failures:
        print(f"POST failed: {failures}")
    print(
        f"POST answered p50 {answered[len(answered) // 2]:.0f} ms, "
        f"p95 {answered[int(0.95 * len(answered))]:.0f} ms"
    )
    return sent


def wait_enriched(db: Database, ids: list[str], timeout: float) -> dict[str, datetime]:
    deadline = time.monotonic() + timeout
    while True:
        with db.session() as db_session:
            rows = db_session.execute(
                select(Report.id, Report.enriched_at).where(
                    Report.id.in_(ids), Report.enriched_at.is_not(None)
                )
            ).all()
        if len(rows) == len(ids) or time.monotonic() > deadline:
            return dict(rows)  # type: ignore[arg-type]
        time.sleep(0.5)


def latency_phase(env: dict[str, str], db: Database, key: str, args: argparse.Namespace) -> dict[str, float]:
    with serving_process(env=env) as (base_url, server):
        processes = {server.pid: "api", **_pipeline_processes(server.pid)}
        # The steady state, not the start-up: every queue worker has imported its jobs and run one.
        warm_up = asyncio.run(steady_load(base_url, key, 10, 2, quiet=True))
        if len(wait_enriched(db, list(warm_up), timeout=120)) < len(warm_up):
            sys.exit("the workers did not enrich the warm-up reports within 120 s")
        cpu_before = {pid: cpu_seconds(pid) for pid in processes}
        sent = asyncio.run(steady_load(base_url, key, args.rate, args.seconds))
        enriched = wait_enriched(db, list(sent), timeout=120)
        cpu_used: dict[str, float] = {}
        for pid, role in processes.items():
            cpu_used[role] = cpu_used.get(role, 0.0) + cpu_seconds(pid) - cpu_before[pid]
    # CPU per report, whatever else the machine is doing: what the pipeline costs, apart from waiting.
    print("CPU per report: " + ", ".join(f"{role} {seconds * 1000 / len(sent):.2f} ms"
                                         for role, seconds in sorted(cpu_used.items())))  # fmt: skip
    latencies = sorted((enriched[i].timestamp() - sent[i]) * 1000 for i in enriched)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"steady load {args.rate:.0f} reports/s for {args.seconds:.0f} s: {len(sent)} accepted, "
          f"{len(enriched)} enriched; POST → case in queue p50 {statistics.median(latencies):.0f} ms, "
          f"p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms")  # fmt: skip
    return {"p50 ms": statistics.median(latencies), "p95 ms": p95}


def _pipeline_processes(server_pid: int, timeout: float = 60) -> dict[int, str]:
    """The server's children by role, once every queue worker is up (they start after the server answers)."""
    deadline = time.monotonic() + timeout
    while True:
        found = {pid: _role(command) for pid, command in descendants(server_pid)}
        if sum(role.startswith("worker ") for role in found.values()) >= 3 or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _role(command: str) -> str:
    if "--queue" in command:
        return "worker " + command.split("--queue", 1)[1].split(maxsplit=1)[0]
    return "redis" if "redis" in command else "worker pool (relay)"


def throughput_phase(env: dict[str, str], db: Database, key: str, jobs: int, workers: int) -> float:
    with serving("--no-worker", env=env) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        headers = {"Authorization": f"Bearer {key}"}
        ids = [
            client.post("/v1/reports", json=report(i, BENIGN), headers=headers).json()["id"]
            for i in range(jobs)
        ]
        # No worker pool runs here, so nothing relays the outbox: publish it to the enrich queue first.
        redis_url = env.get("REDIS_URL") or EmbeddedRedis(Path(env["VAR_DIR"])).url  # the server started it
        OutboxPublisher(db, redis_url).publish_pending()
        started = time.monotonic()
        processes = [
            subprocess.Popen([*TRIAGE, "worker", "--queue", "enrich"], env=env) for _ in range(workers)
        ]
        try:
            done = wait_enriched(db, ids, timeout=300)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=20)
    elapsed = time.monotonic() - started
    rate = len(done) / elapsed
    print(f"{workers} worker(s): {len(done)}/{jobs} in {elapsed:.1f} s: {rate:.0f} jobs/s, start-up included")
    with db.session() as db_session:
        db_session.execute(
            update(Report).values(enriched_at=func.coalesce(Report.enriched_at, datetime.now(UTC)))
        )
        db_session.commit()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", default="1,2", help="worker counts of the throughput phase")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite:///{Path(tmp) / 'pipeline.sqlite3'}"
        env = triage_env(
            var_dir=Path(tmp), database_url=database_url, redis_url=args.redis_url, ACCESS_LOG="false"
        )
        migrate(database_url)
        db = Database(database_url)
        key = run_triage("keys", "create", "--name", f"pipeline-{Path(tmp).name}", env=env).strip()
        latency = latency_phase(env, db, key, args)
        rates = {int(n): throughput_phase(env, db, key, args.jobs, int(n)) for n in args.workers.split(",")}
    if args.json:
        steady = f"Pipeline, POST to case in queue at {args.rate:.0f} reports/s"
        figures = [
            *({"name": steady, "unit": unit, "values": [value]} for unit, value in latency.items()),
            *({"name": f"Pipeline, enrich jobs drained by {n} worker(s)", "unit": "jobs/s", "values": [rate]}
              for n, rate in rates.items()),
        ]  # fmt: skip
        args.json.write_text(json.dumps({"figures": figures}, indent=2))


if __name__ == "__main__":
    main()
