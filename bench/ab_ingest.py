"""A/B ingest benchmark: two checkouts' `triage serve` side by side, loaded in turn with 1 KB SMS reports.

    git worktree add /tmp/candidate my-branch
    python bench/ab_ingest.py --b /tmp/candidate [--a .] [--pairs 8] [--requests 3000] [--concurrency 32]
                              [--database-url URL] [--redis-url URL] [--json PATH]
                              [--env-a NAME=VALUE ...] [--env-b NAME=VALUE ...]

Why: on a shared 2-core VM, the same code's ingest rate moved by up to a third from one run of
bench/ingest.py to the next, so a change worth 5-10 % could not be told from the noise by comparing runs made
minutes apart. Here both servers are up at once (the idle one costs nothing), and each pair of loads runs one
after the other, in the order A B, B A, A B, ...: a drift of the machine's speed moves both sides of a pair
alike, and the order cancels out what running second does. The figures are each pair's B/A rate, their median,
and in how many pairs B was faster, beside each side's median rate and server CPU per report (the API process
and its intake processes, from /proc).

Both servers use the same database and Redis when given (when not, each its own SQLite file and embedded
Redis): on a shared database both checkouts must be at the same migration. --env-a and --env-b set a setting
for one side's server only, so that one checkout can be set against itself with another setting:
`--b . --env-b INTAKE_WORKERS=2`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.httpload import LoadResult, http_post, run, run_load
from bench.ingest import ServerCpu, sms_report
from bench.pg_wal import WalWatch
from tests.integration.server import run_triage, serving_process, triage_env

REPO = Path(__file__).resolve().parent.parent
SIDES = ("A", "B")


@dataclass
class Side:
    """One checkout's server, and what its loads measured."""

    label: str
    checkout: Path
    code: str  # describe(checkout) and the side's own settings, read once
    base_url: str
    key: str
    cpu: ServerCpu
    rates: list[float] = field(default_factory=list)
    cpu_per_report_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)


def describe(checkout: Path) -> str:
    """The checkout and its commit, marked when it has changes not committed."""

    def git(*command: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(checkout), *command], capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else "?"

    changed = " +changes" if git("status", "--porcelain", "--untracked-files=no") not in {"", "?"} else ""
    return f"{checkout.name} {git('rev-parse', '--short', 'HEAD')}{changed}"


def setting(text: str) -> tuple[str, str]:
    """NAME=VALUE, as --env-a and --env-b take it."""
    name, equals, value = text.partition("=")
    if not equals or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name, value


def load_order(pairs: int) -> list[str]:
    """A warm-up load of each side, then `pairs` pairs, alternately A B and B A."""
    order = ["A", "B"]
    for pair in range(pairs):
        order += ["A", "B"] if pair % 2 else ["B", "A"]
    return order


def pair_ratios(a_rates: list[float], b_rates: list[float]) -> list[float]:
    """B's rate over A's, pair by pair (the n-th load of each side makes the n-th pair)."""
    return [b / a for a, b in zip(a_rates, b_rates, strict=True)]


@contextmanager
def side_server(label: str, checkout: Path, args: argparse.Namespace, tmp: Path) -> Iterator[Side]:
    """`triage serve` from `checkout`, with a key of its own."""
    var_dir = tmp / label
    var_dir.mkdir()
    database_url = (args.database_url_b if label == "B" else None) or args.database_url
    database_url = database_url or f"sqlite:///{var_dir / 'ab.sqlite3'}"
    own = dict(args.env_b if label == "B" else args.env_a)
    env = triage_env(var_dir=var_dir, database_url=database_url, redis_url=args.redis_url, **own)
    env["PYTHONPATH"] = str(checkout)  # the checkout's own code, in the server and in its intake processes
    key = run_triage("keys", "create", "--name", f"ab-{label}-{var_dir.parent.name}", env=env, cwd=checkout)
    with serving_process("--no-worker", env=env, cwd=checkout) as (base_url, server):
        code = " ".join([describe(checkout), *(f"{name}={value}" for name, value in own.items())])
        yield Side(label, checkout, code, base_url, key.strip(), ServerCpu(server.pid, base_url))


async def _load(side: Side, name: str, bodies: list[bytes], args: argparse.Namespace) -> LoadResult:
    host, port = side.base_url.removeprefix("http://").split(":")
    headers = {"Authorization": f"Bearer {side.key}", "Content-Type": "application/json"}
    return await run_load(
        name,
        host,
        int(port),
        lambda i: http_post("/v1/reports", host, bodies[i], headers),
        total=len(bodies),
        concurrency=args.concurrency,
    )


async def _alternate(sides: dict[str, Side], args: argparse.Namespace) -> None:
    order = load_order(args.pairs)
    # A young PostgreSQL cluster stalls every commit while it creates a WAL file (bench/pg_wal.py): primed
    # after the warm-ups, no pair pays for that by chance.
    wal = WalWatch(args.database_url)
    with wal.measuring(reports=len(SIDES) * args.requests):
        for step, label in enumerate(order[: len(SIDES)]):
            await _step(sides[label], step, args)
    wal.prepare(reports_to_come=(len(order) - len(SIDES)) * args.requests)
    for step, label in enumerate(order[len(SIDES) :], start=len(SIDES)):
        await _step(sides[label], step, args)
    if summary := wal.summary():
        print(summary)


async def _step(side: Side, step: int, args: argparse.Namespace) -> None:
    """One load of one side; its figures count unless it is a warm-up."""
    label = side.label
    first = step * args.requests
    bodies = [sms_report(first + i) for i in range(args.requests)]
    warm_up = step < len(SIDES)
    name = f"{label} warm-up" if warm_up else f"{label} pair {(step - len(SIDES)) // 2 + 1}"
    before = sum(side.cpu.seconds())
    result = await _load(side, name, bodies, args)
    cpu_ms = (sum(side.cpu.seconds()) - before) * 1000 / result.requests
    failures = sum(n for status, n in result.statuses.items() if status != 201)
    if failures:
        raise RuntimeError(f"{label}: {failures} reports were not stored (statuses {result.statuses})")
    if not warm_up:
        side.rates.append(result.rate)
        side.cpu_per_report_ms.append(cpu_ms)
        side.p99_ms.append(result.percentile(0.99))
    print(f"{result.line()}   server CPU {cpu_ms:.3f} ms/report", flush=True)


def _summary(sides: dict[str, Side], args: argparse.Namespace) -> dict[str, object]:
    a, b = sides["A"], sides["B"]
    ratios = pair_ratios(a.rates, b.rates)
    print(f"\n{args.pairs} pairs of {args.requests} reports, {args.concurrency} connections")
    for side in (a, b):
        print(f"{side.label} {side.code:<40} {statistics.median(side.rates):8.0f} reports/s   "
              f"p99 {statistics.median(side.p99_ms):5.1f} ms   "
              f"server CPU {statistics.median(side.cpu_per_report_ms):.3f} ms/report")  # fmt: skip
    faster = sum(ratio > 1 for ratio in ratios)
    print(f"B/A by pair  : {' '.join(f'{ratio:.2f}' for ratio in ratios)}")
    print(
        f"B/A          : median {statistics.median(ratios):.3f}, B faster in {faster} of {len(ratios)} pairs"
    )
    return {
        "pairs": args.pairs,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "ratios": ratios,
        "sides": {
            side.label: {
                "checkout": str(side.checkout),
                "code": side.code,
                "rates": side.rates,
                "cpu_per_report_ms": side.cpu_per_report_ms,
                "p99_ms": side.p99_ms,
            }
            for side in (a, b)
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", type=Path, default=REPO, help="checkout A (default: this one)")
    parser.add_argument("--b", type=Path, required=True, help="checkout B, e.g. a git worktree")
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--requests", type=int, default=3000, help="reports per load")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", help="both sides' database (default: a SQLite file each)")
    parser.add_argument("--database-url-b", help="B's database, when its migrations differ from A's")
    parser.add_argument("--redis-url", help="both sides' Redis (default: an embedded one each)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    for label in ("a", "b"):
        parser.add_argument(
            f"--env-{label}",
            type=setting,
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"a setting for {label.upper()}'s server only (repeatable)",
        )
    args = parser.parse_args()
    checkouts = {"A": args.a.resolve(), "B": args.b.resolve()}
    for label, checkout in checkouts.items():
        if not (checkout / "service" / "cli").is_dir():
            parser.error(f"--{label.lower()} {checkout} is not a checkout of this project")
    # A server stopping may still write to its folder (the embedded Redis's last save) as it is removed.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp, ExitStack() as servers:
        sides = {
            label: servers.enter_context(side_server(label, checkout, args, Path(tmp)))
            for label, checkout in checkouts.items()
        }
        run(_alternate(sides, args))
        figures = _summary(sides, args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
