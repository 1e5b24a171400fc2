"""Peer comparison on one folder of emails: our analysis, SpamAssassin's spamd and rspamd, side by side.

    python bench/peers.py FOLDER [--limit N] [--rounds 3] [--require-peers] [--json PATH]

1. ours: `Analyzer.analyze` (what the API runs: parse, origin, auth, entities, scoring), in this process,
   one thread, so one core.
2. SpamAssassin: `spamd -L` (local tests only: no DNS, no network) with --spamd-children pre-forked children,
   driven by one `spamc -c` per message with as many in flight as children. Its per-core figure is
   messages/s divided by the cores those children can use.
3. rspamd: its stock configuration with a temporary local.d/override.d, `count` normal workers on loopback,
   fed over HTTP (POST /checkv2). Its resolver points at a loopback responder that answers NXDOMAIN to every
   query, so every network check (RBLs, SURBL, SPF, DKIM keys, DMARC, maps, fuzzy) fails at once instead of
   waiting for a timeout; nothing leaves the machine. No scanning module is disabled by hand: with no Redis
   configured, the Redis-backed ones (Bayes, neural, ratelimit, greylist, reputation...) stay off as
   shipped. The milter proxy worker is turned off (nothing uses it here). A lookup that rspamd still
   times out waits 0.1 s.

The engines take turns, a whole pass each, for --rounds rounds (the order rotates): on a shared machine,
noise then hits all three alike. Printed per engine: messages/s, p50/p99 latency, CPU ms per message (this
process for ours; the daemons' own processes for the peers, from psutil) as median (min-max) over rounds.
A missing peer is skipped with a note (exit 0) unless --require-peers is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.analysis.inputs import ReportInput
from service.analysis.pipeline import INPUT_ERRORS, Analyzer
from service.config import Settings
from service.runtime import build_analyzer

ROOT = Path(__file__).resolve().parent.parent
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])
WARM_UP = 30
STARTUP_TIMEOUT = 180.0


class PeerUnavailable(Exception):
    """A peer is not installed or did not come up; skipped unless --require-peers."""


@dataclass
class Pass:
    """One engine's timed pass over every sample."""

    seconds: float
    cpu_seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def cpu_ms(self) -> float:
        return self.cpu_seconds / len(self.latencies) * 1000


class Engine(Protocol):
    name: str
    cores: int
    note: str

    def run_pass(self, samples: list[bytes]) -> Pass: ...


@dataclass
class Results:
    engine: Engine
    passes: list[Pass] = field(default_factory=list)


# ---- ours ------------------------------------------------------------------------------------------------


@dataclass
class Ours:
    analyzer: Analyzer
    name: str = "ours"
    cores: int = 1
    note: str = "Analyzer.analyze in-process, one thread"

    def run_pass(self, samples: list[bytes]) -> Pass:
        now = datetime.now(UTC)
        latencies: list[float] = []
        errors = 0
        cpu_started = time.process_time()
        started = time.perf_counter()
        for raw in samples:
            began = time.perf_counter()
            try:
                self.analyzer.analyze(ReportInput.for_email(raw), now=now)
            except INPUT_ERRORS:
                errors += 1  # the API answers these with a 422: still a finished analysis
            latencies.append(time.perf_counter() - began)
        return Pass(time.perf_counter() - started, time.process_time() - cpu_started, latencies, errors)


# ---- shared by the peers -----------------------------------------------------------------------------------


def find_binary(name: str) -> str:
    found = shutil.which(name, path=SBIN_PATH)
    if not found:
        raise PeerUnavailable(f"`{name}` is not installed")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_cpu_seconds(pid: int) -> float:
    """CPU used so far by a daemon: itself, its live children, and the children it has already reaped."""
    try:
        root = psutil.Process(pid)
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            try:
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
            except psutil.NoSuchProcess:
                pass
        return total
    except psutil.NoSuchProcess:
        return 0.0


def closed_loop(
    samples: list[bytes], concurrency: int, send: Callable[[bytes], Awaitable[bool]], daemon_pid: int
) -> Pass:
    """Keep `concurrency` messages in flight until all are answered; time each round trip."""

    async def drive() -> tuple[list[float], int]:
        latencies: list[float] = []
        failures = 0
        queue = iter(samples)

        async def lane() -> None:
            nonlocal failures
            for raw in queue:
                began = time.perf_counter()
                if not await send(raw):
                    failures += 1
                latencies.append(time.perf_counter() - began)

        await asyncio.gather(*(lane() for _ in range(concurrency)))
        return latencies, failures

    cpu_started = tree_cpu_seconds(daemon_pid)
    started = time.perf_counter()
    latencies, failures = asyncio.run(drive())
    elapsed = time.perf_counter() - started
    return Pass(elapsed, tree_cpu_seconds(daemon_pid) - cpu_started, latencies, failures)


def wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise PeerUnavailable(f"{what} did not come up:\n{tail}")
        time.sleep(0.5)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the daemon's own PID (it stops its children), then wait; SIGKILL only if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# ---- SpamAssassin ------------------------------------------------------------------------------------------


@dataclass
class SpamAssassin:
    children: int
    max_size: int
    name: str = "spamassassin"
    cores: int = 1
    note: str = ""
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    spamc: str = ""

    def start(self, tmp: Path) -> None:
        spamd = find_binary("spamd")
        self.spamc = find_binary("spamc")
        home = tmp / "spamd-home"
        home.mkdir()
        home.chmod(0o777)  # spamd drops root for `nobody`, whose helper home this is
        self.port = free_port()
        command = [
            spamd, "--local", "--nouser-config", "--ipv4-only",
            f"--listen=127.0.0.1:{self.port}", "--allowed-ips=127.0.0.1",
            f"--max-children={self.children}", f"--min-children={self.children}",
            f"--min-spare={self.children}", f"--max-spare={self.children}", "--max-conn-per-child=1000000",
            f"--helper-home-dir={home}", f"--pidfile={tmp / 'spamd.pid'}", "--syslog=stderr",
        ]  # fmt: skip
        if os.geteuid() == 0:
            command.append("--username=nobody")
        log = tmp / "spamd.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        wait_until(self._pong, self.process, "spamd", log)
        self.cores = min(self.children, os.cpu_count() or 1)
        self.note = f"spamd -L, {self.children} children, {self.children} spamc in flight"

    def _pong(self) -> bool:
        ping = [self.spamc, "-d", "127.0.0.1", "-p", str(self.port), "-K"]
        return subprocess.run(ping, capture_output=True, timeout=30, check=False).returncode == 0

    async def _check(self, raw: bytes) -> bool:
        # -c: score only, so no rewritten message travels back; -s: scan every sample, however large
        # (spamc would otherwise pass anything over 500 KB through unscanned); -x: fail loudly.
        command = [self.spamc, "-d", "127.0.0.1", "-p", str(self.port), "-c", "-x", "-s", str(self.max_size)]
        process = await asyncio.create_subprocess_exec(
            *command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        await process.communicate(raw)
        return process.returncode in (0, 1)  # 1 = spam; anything else is an error

    def run_pass(self, samples: list[bytes]) -> Pass:
        assert self.process is not None
        return closed_loop(samples, self.children, self._check, self.process.pid)


# ---- rspamd ------------------------------------------------------------------------------------------------


def nxdomain(query: bytes) -> bytes | None:
    """The NXDOMAIN answer to one DNS query (its first question echoed back), or None if malformed."""
    if len(query) < 12 or query[4:6] == b"\0\0":
        return None
    end = 12
    while end < len(query) and query[end]:
        end += query[end] + 1
    end += 5  # the root label, QTYPE, QCLASS
    if end > len(query):
        return None
    flags = int.from_bytes(query[2:4], "big")
    answer_flags = 0x8000 | (flags & 0x7900) | 0x0080 | 3  # QR, same opcode and RD, RA, NXDOMAIN
    return query[:2] + answer_flags.to_bytes(2, "big") + b"\0\1\0\0\0\0\0\0" + query[12:end]


def answer_nxdomain_forever(sock: socket.socket) -> None:
    while True:
        query, peer = sock.recvfrom(4096)
        answer = nxdomain(query)
        if answer:
            sock.sendto(answer, peer)


@contextmanager
def nxdomain_responder() -> Iterator[int]:
    """A UDP resolver on loopback that says NXDOMAIN to everything; yields its port.

    Its own process: a thread here would wait for the GIL behind the load driver, and rspamd would see
    its lookups time out instead of fail."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    responder = multiprocessing.get_context("fork").Process(
        target=answer_nxdomain_forever, args=(sock,), name="nxdomain", daemon=True
    )
    responder.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        responder.terminate()
        responder.join(timeout=5)
        sock.close()


def rspamd_overrides(tmp: Path, normal_port: int, controller_port: int, dns_port: int, workers: int) -> None:
    """local.d / override.d on top of the stock /etc/rspamd configuration."""
    (tmp / "local.d").mkdir()
    (tmp / "override.d").mkdir()
    (tmp / "local.d" / "options.inc").write_text(
        f'dns {{\n  nameserver = ["127.0.0.1:{dns_port}"];\n  timeout = 0.1s;\n  retransmits = 0;\n}}\n'
    )
    (tmp / "override.d" / "worker-normal.inc").write_text(
        f'bind_socket = "127.0.0.1:{normal_port}";\ncount = {workers};\n'
    )
    (tmp / "override.d" / "worker-controller.inc").write_text(
        f'bind_socket = "127.0.0.1:{controller_port}";\ncount = 1;\n'
    )
    (tmp / "override.d" / "worker-proxy.inc").write_text("count = -1;\n")
    (tmp / "override.d" / "logging.inc").write_text(f'type = "file";\nfilename = "{tmp / "rspamd.log"}";\n')


@dataclass
class Rspamd:
    workers: int
    concurrency: int
    dns_port: int
    name: str = "rspamd"
    cores: int = 1
    note: str = ""
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self, tmp: Path) -> None:
        rspamd = find_binary("rspamd")
        config = Path("/etc/rspamd/rspamd.conf")
        if not config.exists():
            raise PeerUnavailable(f"rspamd is installed but {config} is missing")
        self.port = free_port()
        rspamd_overrides(tmp, self.port, free_port(), self.dns_port, self.workers)
        for folder in (tmp, tmp / "db", tmp / "run"):
            folder.mkdir(exist_ok=True)
            folder.chmod(0o777)  # the workers drop root for `nobody` and write here
        command = [
            rspamd, "--no-fork", "--config", str(config),
            f"--var=LOCAL_CONFDIR={tmp}", f"--var=DBDIR={tmp / 'db'}", f"--var=RUNDIR={tmp / 'run'}",
            f"--var=LOGDIR={tmp}",
        ]  # fmt: skip
        if os.geteuid() == 0:
            command += ["--user=nobody", f"--group={nogroup()}"]
        log = tmp / "rspamd.log"
        with (tmp / "rspamd.out").open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        started = time.monotonic()
        # The stock rules run on PCRE until hyperscan has compiled them: wait for that, as production does.
        wait_until(
            lambda: port_open(self.port) and hyperscan_ready(log, time.monotonic() - started),
            self.process,
            "rspamd",
            log,
        )
        self.cores = min(self.workers, os.cpu_count() or 1)
        self.note = (
            f"{self.workers} normal worker(s), {self.concurrency} HTTP requests in flight, "
            "DNS answered NXDOMAIN on loopback"
        )

    async def _check(self, raw: bytes) -> bool:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = f"POST /checkv2 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {len(raw)}"
        writer.write(head.encode() + b"\r\n\r\n" + raw)
        answer = await reader.read()
        writer.close()
        return answer.startswith(b"HTTP/1.1 200") and b'"action"' in answer

    def run_pass(self, samples: list[bytes]) -> Pass:
        assert self.process is not None
        return closed_loop(samples, self.concurrency, self._check, self.process.pid)


def nogroup() -> str:
    import grp

    for name in ("nogroup", "nobody"):
        try:
            grp.getgrnam(name)
            return name
        except KeyError:
            continue
    return "0"


def hyperscan_ready(log: Path, waited: float) -> bool:
    """The normal worker has loaded the compiled hyperscan database (or, 15 s on, no hs_helper ever ran:
    a build without hyperscan, as on some architectures)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    loaded = any("(normal)" in line and "has been loaded" in line for line in text.splitlines())
    return loaded or (waited > 15 and "hs_helper" not in text)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


# ---- the comparison ----------------------------------------------------------------------------------------


def load_samples(folder: Path, limit: int) -> list[bytes]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".eml")
    if not files:
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if limit:
        files = files[:limit]
    return [p.read_bytes() for p in files]


def start_peers(
    args: argparse.Namespace, stack: ExitStack, max_size: int, notes: list[str]
) -> list[SpamAssassin | Rspamd]:
    """The peers that are installed and come up; the others become notes (errors with --require-peers)."""
    peers: list[SpamAssassin | Rspamd] = []
    wanted = set(args.engines.split(","))
    if "spamassassin" in wanted:
        peers.append(SpamAssassin(children=args.spamd_children, max_size=max_size))
    if "rspamd" in wanted:
        dns_port = stack.enter_context(nxdomain_responder())
        concurrency = args.rspamd_concurrency
        peers.append(Rspamd(workers=args.rspamd_workers, concurrency=concurrency, dns_port=dns_port))
    started: list[SpamAssassin | Rspamd] = []
    for peer in peers:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"bench-{peer.name}-")))
        try:
            peer.start(tmp)
        except PeerUnavailable as error:
            if args.require_peers:
                raise
            notes.append(f"{peer.name} skipped: {error}")
            continue
        finally:
            if peer.process is not None:
                stack.callback(stop, peer.process)
        started.append(peer)
    return started


def measure(engines: list[Engine], samples: list[bytes], rounds: int) -> list[Results]:
    results = [Results(engine) for engine in engines]
    for engine in engines:
        engine.run_pass(samples[:WARM_UP])  # caches, lazily compiled rules, pre-forked children
    for round_number in range(rounds):
        shift = round_number % len(results)
        for result in results[shift:] + results[:shift]:
            one = result.engine.run_pass(samples)
            result.passes.append(one)
            print(
                f"  round {round_number + 1} {result.engine.name:<13} {one.rate:8.1f} msg/s  "
                f"p50 {one.percentile_ms(0.5):7.1f} ms  p99 {one.percentile_ms(0.99):7.1f} ms  "
                f"CPU {one.cpu_ms:6.2f} ms/msg  errors {one.errors}",
                flush=True,
            )
    return results


def median_spread(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "rounds": values}


def summarise(result: Results) -> dict[str, Any]:
    passes, cores = result.passes, result.engine.cores
    return {
        "note": result.engine.note,
        "cores": cores,
        "rate": median_spread([p.rate for p in passes]),
        "rate_per_core": median_spread([p.rate / cores for p in passes]),
        "p50_ms": median_spread([p.percentile_ms(0.5) for p in passes]),
        "p99_ms": median_spread([p.percentile_ms(0.99) for p in passes]),
        "cpu_ms_per_message": median_spread([p.cpu_ms for p in passes]),
        "errors": max(p.errors for p in passes),
    }


def fmt(figure: dict[str, Any], digits: int = 1) -> str:
    return f"{figure['median']:,.{digits}f} ({figure['min']:,.{digits}f}-{figure['max']:,.{digits}f})"


def print_summary(summary: dict[str, Any]) -> None:
    engines: dict[str, Any] = summary["engines"]
    print(f"\n{summary['messages']} emails ({summary['megabytes']:.1f} MB), {summary['rounds']} rounds, "
          "median (min-max) over rounds")  # fmt: skip
    for name, figures in engines.items():
        print(f"{name:<13} {figures['note']}")
        print(f"  messages/s          {fmt(figures['rate'])} on {figures['cores']} core(s)")
        print(f"  messages/s per core {fmt(figures['rate_per_core'])}")
        print(f"  p50 ms              {fmt(figures['p50_ms'])}")
        print(f"  p99 ms              {fmt(figures['p99_ms'])}")
        print(f"  CPU ms per message  {fmt(figures['cpu_ms_per_message'], 2)}")
        print(f"  errors              {figures['errors']}")
    for name, ratio in summary["ratios"].items():
        print(f"ours per core vs {name} per core: {ratio['per_core']:.1f}x "
              f"(CPU per message: {ratio['cpu']:.1f}x less)")  # fmt: skip
    for goal in summary["goals"]:
        print(f"goal: {goal['goal']}: {'met' if goal['met'] else 'NOT met'}")
    for note in summary["notes"]:
        print(f"note: {note}")


def ratios_and_goals(engines: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    ours = engines["ours"]
    ratios = {
        name: {
            "per_core": ours["rate_per_core"]["median"] / peer["rate_per_core"]["median"],
            "cpu": peer["cpu_ms_per_message"]["median"] / ours["cpu_ms_per_message"]["median"],
        }
        for name, peer in engines.items()
        if name != "ours"
    }
    goals = []
    if "spamassassin" in ratios:
        ratio = ratios["spamassassin"]["per_core"]
        goals.append({"goal": f"per core >= 15x SpamAssassin ({ratio:.1f}x)", "met": ratio >= 15})
    if "rspamd" in ratios:
        ratio = ratios["rspamd"]["per_core"]
        goals.append({"goal": f"per core ahead of rspamd ({ratio:.2f}x)", "met": ratio > 1})
    return ratios, goals


def main() -> None:
    raw_help = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw_help)
    parser.add_argument("folder", type=Path, help="folder of emails (*.eml, else every file)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N emails")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engines", default="ours,spamassassin,rspamd", help="comma-separated subset")
    parser.add_argument("--spamd-children", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rspamd-workers", type=int, default=1)
    parser.add_argument("--rspamd-concurrency", type=int, default=16)
    parser.add_argument("--require-peers", action="store_true", help="fail, not skip, if a peer is missing")
    parser.add_argument("--json", type=Path, help="also write the summary as JSON here")
    args = parser.parse_args()
    # SIGTERM (a timeout upstream) unwinds like Ctrl-C, so the daemons started here are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    samples = load_samples(args.folder, args.limit)
    if not samples:
        parser.error(f"no emails in {args.folder}")
    notes: list[str] = []
    with ExitStack() as stack:
        try:
            peers = start_peers(args, stack, max(len(s) for s in samples) + 4096, notes)
        except PeerUnavailable as error:
            sys.exit(f"peer required but unavailable: {error}")
        engines: list[Engine] = [Ours(build_analyzer(Settings(rules_dir=ROOT / "rules")))]
        engines += peers
        results = measure(engines, samples, args.rounds)
    summary_engines = {r.engine.name: summarise(r) for r in results}
    ratios, goals = ratios_and_goals(summary_engines)
    summary = {
        "messages": len(samples),
        "megabytes": sum(len(s) for s in samples) / 1e6,
        "rounds": args.rounds,
        "engines": summary_engines,
        "ratios": ratios,
        "goals": goals,
        "notes": notes,
    }
    print_summary(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
