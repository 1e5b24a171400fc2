"""Ingest benchmark: POST /v1/reports with 1 KB SMS reports over loopback against a real `triage serve`.

A minimal FastAPI echo endpoint in the same server, driven in the same run, is the ceiling.

    python bench/ingest.py [--database-url URL] [--redis-url URL] [--requests N] [--concurrency C]
                           [--intake-workers N]

Without --database-url it uses a fresh SQLite file; without --redis-url, the embedded Redis. The echo load
runs before the first ingest round and after each one; each round's ratio is its ingest rate over the mean of
the echo rates on either side of it, and the figures are medians over the rounds. --intake-workers sets
INTAKE_WORKERS for the server (unset: the server's default). Beside the rates it prints the server's CPU
per request (the API process and its intake processes, from /proc), which says what the rate cost, and the
whole machine's (the database and the load generator too, from /proc/stat). The echo runs in one API process
on one core; the ingest uses every core. When the ingest keeps them all busy, the machine's CPU per report
bounds the ratio: N cores at C ms per report make at most N / C reports per millisecond.

After each ingest round and the echo run that follows it, as many reports go out open loop at half the rate
of that echo run (`--paced-share`), each when it falls due and timed from then: the goal asks for the p99 at
that load, where a closed loop's p99 is that of a saturated server, 32 connections over its rate. An open
loop does not slow down with the server: if the VM slows by half between the echo run and the paced round,
the reports queue for the rest of the round (one such round in session 16 had a p99 of 658 ms), so the
summary gives the median over the rounds and each round's p99 beside it.

32 connections by default. The echo is saturated from 8 connections on (2026-12-03, in turn on one server:
2,133, 2,004, 2,257 and 2,254 req/s at 8, 16, 32 and 64), so any of them measures the ceiling. The ingest
is not: a durable commit on PostgreSQL waits about 4 ms for its WAL flush on our VM, so 16 clients leave
its intake short of reports while their reports wait on the disk. At 64 connections both loads queue past
a p99 of 50 ms. --concurrency 16 shows the latency-bound case.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.httpload import LoadResult, http_post, run, run_load, run_paced
from bench.load import cpu_seconds, machine_busy_seconds
from bench.pg_wal import WalWatch
from tests.integration.server import descendants, run_triage, serving_process, triage_env

TEXTS = [
    "Quý khách vui lòng thanh toán cước tháng 11 trước ngày 25 để tránh gián đoạn dịch vụ. ",
    "Mày liệu hồn, không trả tiền thì đừng trách tao. ",
    "Chúc mừng bạn đã trúng thưởng, vui lòng liên hệ tổng đài để nhận quà. ",
    "Your parcel is held at customs, pay the fee at the link to release it. ",
]


def sms_report(index: int) -> bytes:
    """A ~1 KB JSON SMS report with a unique reference."""
    text = (TEXTS[index % len(TEXTS)] * 12)[:880]
    body = {
        "channel": "sms",
        "reference": f"bench-{index}",
        "reporter": {"msisdn": "0912345678"},
        "sms": {
            "sender": f"09612{index % 100000:05d}",
            "text": text,
            "operator_facts": {"subscription": "prepaid", "sent_24h": index % 300},
        },
    }
    return json.dumps(body, ensure_ascii=False).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--intake-workers", type=int, help="INTAKE_WORKERS for the server")
    parser.add_argument("--json", type=Path, help="also write the per-round figures as JSON here")
    parser.add_argument(
        "--paced-share",
        type=float,
        default=0.5,
        help="after each ingest round, as many reports open loop at this share of the echo ceiling (0: skip)",
    )
    parser.add_argument(
        "--cold-wal",
        action="store_true",
        help="PostgreSQL: skip giving the cluster recycled WAL files before the rounds (bench/pg_wal.py)",
    )
    parser.add_argument(
        "--batch-lines", type=int, default=100, help="also post NDJSON batches of this many reports (0: skip)"
    )
    args = parser.parse_args()
    # A server stopping may still write to its folder (the embedded Redis's last save) as it is removed.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        database_url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        extra = {"ENABLE_BENCH_ECHO": "true"}
        if args.intake_workers is not None:
            extra["INTAKE_WORKERS"] = str(args.intake_workers)
        env = triage_env(var_dir=Path(tmp), database_url=database_url, redis_url=args.redis_url, **extra)
        key = run_triage("keys", "create", "--name", f"bench-{Path(tmp).name}", env=env).strip()
        with serving_process("--no-worker", env=env) as (base_url, server):
            run(_rounds(base_url, key, args, ServerCpu(server.pid, base_url)))


CORES = os.cpu_count() or 1  # /proc/stat's first line sums every core of the machine

# Reports stored, group commits made, and the seconds reports waited for their commit.
COMMIT_METRICS = (
    "triage_writer_batch_reports_sum",
    "triage_writer_batch_reports_count",
    "triage_store_seconds_sum",
)


class ServerCpu:
    """CPU seconds of the API process and of the intake processes it started, and the commits they made."""

    def __init__(self, pid: int, base_url: str) -> None:
        self.pid = pid
        self.base_url = base_url

    def commits(self) -> tuple[float, float, float]:
        """COMMIT_METRICS so far, from the writer's histograms in /metrics."""
        with urllib.request.urlopen(f"{self.base_url}/metrics") as response:
            text = response.read().decode()
        reports, commits, waited = (float(_metric(text, name)) for name in COMMIT_METRICS)
        return reports, commits, waited

    def seconds(self) -> tuple[float, float]:
        intakes = [child for child, command in descendants(self.pid) if "intake" in command]
        return cpu_seconds(self.pid), sum(cpu_seconds(pid) for pid in intakes)


def _metric(text: str, name: str) -> str:
    return next(line.split()[-1] for line in text.splitlines() if line.startswith(name + " "))


@dataclass(frozen=True)
class RoundCpu:
    """What one round cost per request, in ms of CPU: the API process, its intake processes, the machine."""

    api: float
    intake: float
    machine: float | None  # every process on every core (None where /proc/stat is missing)
    busy: float | None  # the share of all the machine's cores that was busy during the round
    client: float = 0.0  # this load generator's own: it shares the cores, so it is shown, not assumed small


async def _measured(
    cpu: ServerCpu,
    load: Awaitable[LoadResult],
    per_request: list[RoundCpu],
    per_commit: list[tuple[float, float]] | None = None,
) -> LoadResult:
    commits_before = cpu.commits() if per_commit is not None else None
    api_before, intake_before = cpu.seconds()
    machine_before = machine_busy_seconds()
    client_before = time.process_time()
    result = await load
    client = time.process_time() - client_before
    machine_after = machine_busy_seconds()
    api_after, intake_after = cpu.seconds()
    if per_commit is not None and commits_before is not None:
        after = cpu.commits()
        reports, commits, waited = (after[n] - commits_before[n] for n in range(3))
        if commits:
            per_commit.append((reports / commits, waited * 1000 / reports))
    machine = None if machine_before is None or machine_after is None else machine_after - machine_before
    per_request.append(
        RoundCpu(
            api=(api_after - api_before) * 1000 / result.requests,
            intake=(intake_after - intake_before) * 1000 / result.requests,
            machine=None if machine is None else machine * 1000 / result.requests,
            busy=None if machine is None else machine / (result.seconds * CORES),
            client=client * 1000 / result.requests,
        )
    )
    return result


async def _rounds(base_url: str, key: str, args: argparse.Namespace, cpu: ServerCpu) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    paced_rounds = args.rounds if args.paced_share > 0 else 0
    bodies = [sms_report(i) for i in range(args.requests * (args.rounds + paced_rounds + 1))]
    echoes: list[LoadResult] = []
    ingests: list[LoadResult] = []
    paced: list[LoadResult] = []
    echo_cpu: list[RoundCpu] = []
    ingest_cpu: list[RoundCpu] = []
    paced_cpu: list[RoundCpu] = []
    per_commit: list[tuple[float, float]] = []
    wal = WalWatch(args.database_url, cold=args.cold_wal)
    warm_up = min(500, args.requests)
    with wal.measuring(warm_up):
        await run_load(
            "warm-up",
            host,
            int(port),
            lambda i: http_post("/v1/reports", host, bodies[i], headers),
            total=warm_up,
            concurrency=args.concurrency,
        )
    wal.prepare(reports_to_come=len(bodies) + (args.requests if args.batch_lines else 0))

    def echo(i: int) -> bytes:
        return http_post("/bench/echo", host, bodies[i], headers)

    def load(name: str, make_request: Callable[[int], bytes]) -> Awaitable[LoadResult]:
        return run_load(
            name, host, int(port), make_request, total=args.requests, concurrency=args.concurrency
        )

    # Echo, ingest, echo, ingest, ..., echo: each ingest round is set against the echo runs on either side of
    # it, so that a machine whose speed drifts from one minute to the next (a shared VM's does, by half)
    # moves both sides of each ratio alike.
    echoes.append(await _measured(cpu, load("echo ceiling (round 1)", echo), echo_cpu))
    print(echoes[-1].line())
    for round_number in range(1, args.rounds + 1):
        offset = round_number * args.requests

        def ingest(i: int, offset: int = offset) -> bytes:
            return http_post("/v1/reports", host, bodies[offset + i], headers)

        with wal.counting_files():
            ingests.append(
                await _measured(cpu, load(f"ingest (round {round_number})", ingest), ingest_cpu, per_commit)
            )
        print(ingests[-1].line())
        echoes.append(await _measured(cpu, load(f"echo ceiling (round {round_number + 1})", echo), echo_cpu))
        print(echoes[-1].line())
        if paced_rounds:
            # The echo run just before: on a shared VM whose speed drifts, the nearest measure of the ceiling.
            ceiling = echoes[-1].rate
            first = (args.rounds + round_number) * args.requests
            own = bodies[first : first + args.requests]
            with wal.counting_files():
                round_ = _paced_round(host, int(port), headers, own, ceiling, args, round_number)
                paced.append(await _measured(cpu, round_, paced_cpu))
            print(paced[-1].line())
    if args.batch_lines:
        await _batches(host, int(port), key, args, first=len(bodies))
    _summary(echoes, ingests, args)
    if paced:
        _paced_summary(paced, args)
    if args.json:
        where = f"{args.concurrency} connections, {_database(args)}"
        _write_json(args.json, echoes, ingests, (paced, args.paced_share), where)
    _print_cpu(echo_cpu, ingest_cpu, echo_rate=statistics.median(r.rate for r in echoes))
    print(client_line(ingest_cpu, paced_cpu))
    if per_commit:
        size = statistics.median(size for size, _ in per_commit)
        wait = statistics.median(wait for _, wait in per_commit)
        print(f"group commit : {size:.1f} reports per commit, each report waits {wait:.2f} ms for its commit")
    if summary := wal.summary():
        print(summary)


async def _paced_round(
    host: str,
    port: int,
    headers: dict[str, str],
    bodies: list[bytes],
    ceiling: float,
    args: argparse.Namespace,
    round_number: int,
) -> LoadResult:
    """The issue's goal asks for the p99 at 50 % of the echo ceiling: this sends reports at that rate, each
    when it falls due (open loop), where the closed loop's p99 is that of a saturated server, set by how
    many connections wait on it."""
    return await run_paced(
        f"ingest at {args.paced_share:.0%} ({round_number})",
        host,
        port,
        lambda i: http_post("/v1/reports", host, bodies[i], headers),
        total=args.requests,
        rate=args.paced_share * ceiling,
    )


def _paced_summary(paced: list[LoadResult], args: argparse.Namespace) -> None:
    failures = sum(n for r in paced for status, n in r.statuses.items() if status != 201)
    print(f"paced        : {statistics.median(r.rate for r in paced):8.0f} reports/s  {_latency(paced)}   "
          f"non-201: {failures}   (open loop at {args.paced_share:.0%} of the echo run before each; "
          f"p99 per round {' '.join(f'{r.percentile(0.99):.1f}' for r in paced)} ms)")  # fmt: skip


def _print_cpu(echo_cpu: list[RoundCpu], ingest_cpu: list[RoundCpu], *, echo_rate: float) -> None:
    echo = statistics.median(cost.api + cost.intake for cost in echo_cpu)
    api = statistics.median(cost.api for cost in ingest_cpu)
    intake = statistics.median(cost.intake for cost in ingest_cpu)
    print(f"server CPU   : echo {echo:.3f} ms/request, ingest {api + intake:.3f} ms/report "
          f"(API {api:.3f} + intake processes {intake:.3f})")  # fmt: skip
    machine = machine_line(echo_cpu, ingest_cpu, echo_rate=echo_rate)
    if machine is not None:
        print(machine)


def client_line(closed: list[RoundCpu], paced: list[RoundCpu]) -> str:
    """The load generator's own CPU per request, closed loop and open loop, and the machine's in the open
    loop: a client that spends more takes that CPU from the server it measures."""
    line = f"load gen CPU : {statistics.median(c.client for c in closed):.3f} ms/request closed loop"
    if paced:
        line += f", {statistics.median(c.client for c in paced):.3f} open loop"
        machine = _machine_medians(paced)
        if machine is not None:
            line += f" (machine {machine[0]:.3f} ms/report open loop, {machine[1]:.0%} busy)"
    return line


def machine_line(echo_cpu: list[RoundCpu], ingest_cpu: list[RoundCpu], *, echo_rate: float) -> str | None:
    """The whole machine's CPU per request and how busy it was, and the ratio its cores could reach at most
    at the ingest's cost per report; None where /proc/stat could not be read."""
    echo_figures, ingest_figures = _machine_medians(echo_cpu), _machine_medians(ingest_cpu)
    if echo_figures is None or ingest_figures is None:
        return None
    (echo, echo_busy), (ingest, ingest_busy) = echo_figures, ingest_figures
    bound = CORES * 1000 / ingest / echo_rate if ingest > 0 and echo_rate > 0 else 0.0
    return (
        f"machine CPU  : echo {echo:.3f} ms/request ({echo_busy:.0%} of {CORES} cores busy), "
        f"ingest {ingest:.3f} ms/report ({ingest_busy:.0%} busy): at that cost {CORES} busy cores "
        f"make at most {bound:.0%} of the echo ceiling"
    )


def _machine_medians(costs: list[RoundCpu]) -> tuple[float, float] | None:
    """The median machine CPU per request and busy share over the rounds; None if a round lacks them."""
    machine = [cost.machine for cost in costs if cost.machine is not None]
    busy = [cost.busy for cost in costs if cost.busy is not None]
    if len(machine) < len(costs) or len(busy) < len(costs):
        return None
    return statistics.median(machine), statistics.median(busy)


async def _batches(host: str, port: int, key: str, args: argparse.Namespace, *, first: int) -> None:
    """The same reports through `POST /v1/reports:batch`, beside the single posts: reports/s, not requests."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
    count = max(1, args.requests // args.batch_lines)
    lines = args.batch_lines

    def batch(i: int) -> bytes:
        body = b"\n".join(sms_report(first + i * lines + n) for n in range(lines))
        return http_post("/v1/reports:batch", host, body, headers)

    result = await run_load(
        f"batch of {lines}", host, port, batch, total=count, concurrency=min(4, args.concurrency)
    )
    print(result.line())
    print(f"batch intake : {result.rate * lines:8.0f} reports/s  ({count} batches of {lines} lines, "
          f"p50 {result.percentile(0.5):.0f} ms per batch)")  # fmt: skip


def _summary(echoes: list[LoadResult], ingests: list[LoadResult], args: argparse.Namespace) -> None:
    echo_rate = statistics.median(r.rate for r in echoes)
    ingest_rate = statistics.median(r.rate for r in ingests)
    ratios = bracketed_ratios(echoes, ingests)
    failures = sum(n for r in ingests for status, n in r.statuses.items() if status != 201)
    database = _database(args)
    print(f"\n{args.requests} requests x {args.rounds} rounds, {args.concurrency} connections, {database}")
    print(f"echo ceiling : {echo_rate:8.0f} req/s      {_latency(echoes)}")
    print(f"ingest       : {ingest_rate:8.0f} reports/s  {_latency(ingests)}   non-201: {failures}")
    print(f"ratio        : {statistics.median(ratios):.0%} of the echo ceiling (median of the rounds, "
          f"{min(ratios):.0%}-{max(ratios):.0%}; each against the echo runs on either side)")  # fmt: skip


def _database(args: argparse.Namespace) -> str:
    return "SQLite" if not args.database_url else args.database_url.split(":")[0]


def bracketed_ratios(echoes: list[LoadResult], ingests: list[LoadResult]) -> list[float]:
    """Each ingest round's rate over the mean of the echo rates just before and just after it."""
    return [
        ingest.rate / ((before.rate + after.rate) / 2)
        for ingest, before, after in zip(ingests, echoes, echoes[1:], strict=False)
    ]


def _write_json(
    path: Path,
    echoes: list[LoadResult],
    ingests: list[LoadResult],
    paced_at: tuple[list[LoadResult], float],
    load: str,
) -> None:
    """Per-round figures for bench/run_all.py; `load` names the connections and the database, `paced_at`
    holds the open-loop rounds and the share of the echo ceiling they were sent at."""
    paced, paced_share = paced_at
    where = f"1 KB SMS reports over loopback, {load}"
    figures = [
        {"name": f"Ingest, {where}", "unit": "reports/s", "values": [r.rate for r in ingests]},
        {"name": f"Ingest, {where}", "unit": "p50 ms", "values": [r.percentile(0.5) for r in ingests]},
        {"name": f"Ingest, {where}", "unit": "p99 ms", "values": [r.percentile(0.99) for r in ingests]},
        {"name": f"Echo ceiling, {load}", "unit": "req/s", "values": [r.rate for r in echoes]},
        {"name": f"Ingest vs echo ceiling, {load}", "unit": "ratio",
         "values": bracketed_ratios(echoes, ingests)},
    ]  # fmt: skip
    if paced:
        where = f"1 KB SMS reports at {paced_share:.0%} of the echo ceiling, open loop"
        figures += [
            {"name": f"Ingest, {where}", "unit": "reports/s", "values": [r.rate for r in paced]},
            {"name": f"Ingest, {where}", "unit": "p99 ms", "values": [r.percentile(0.99) for r in paced]},
        ]
    path.write_text(json.dumps({"figures": figures}, indent=2))


def _latency(results: list[LoadResult]) -> str:
    p50 = statistics.median(r.percentile(0.50) for r in results)
    p99 = statistics.median(r.percentile(0.99) for r in results)
    return f"p50 {p50:.1f} ms   p99 {p99:.1f} ms"


if __name__ == "__main__":
    main()
