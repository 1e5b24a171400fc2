"""Each benchmark script runs end to end on a tiny input and writes the figures it promises.

No figure is judged here: these are benchmarks, not timed tests. peers.py starts spamd and rspamd when they
are installed (half a minute, most of it rspamd compiling its rules), so it runs in the background while the
other scripts run, and its test collects it last.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.httpload import LoadResult
from bench.ingest import CORES, RoundCpu, bracketed_ratios, client_line, machine_line

REPO = Path(__file__).resolve().parent.parent.parent
EMAILS = REPO / "tests" / "files" / "email"
TIMEOUT = 240


def run_bench(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(REPO / "bench" / script), *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def figures(path: Path) -> dict[tuple[str, str], list[float]]:
    return {(f["name"], f["unit"]): f["values"] for f in json.loads(path.read_text())["figures"]}


@pytest.fixture(scope="module")
def peers_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """peers.py on three emails, started when the first test of this module starts."""
    out = tmp_path_factory.mktemp("peers")
    command = [
        sys.executable, str(REPO / "bench" / "peers.py"), str(EMAILS), "--limit", "3", "--rounds", "1",
        "--json", str(out / "peers.json"),
    ]  # fmt: skip
    with (out / "stdout.txt").open("w") as stdout:
        process = subprocess.Popen(command, cwd=REPO, stdout=stdout, stderr=subprocess.STDOUT, text=True)
    yield process, out
    if process.poll() is None:
        process.terminate()  # peers.py stops the daemons it started on SIGTERM
        process.wait(timeout=60)


@pytest.fixture(autouse=True)
def _start_peers_first(peers_run: tuple[subprocess.Popen[str], Path]) -> None:
    """Every test asks for the background peers run, so it starts with the first one."""


def test_email_parse_prints_and_writes_figures(tmp_path: Path) -> None:
    done = run_bench(
        "email_parse.py", str(EMAILS), "--stdlib", "--repeat", "1", "--json", str(tmp_path / "f")
    )
    assert done.returncode == 0, done.stderr
    assert "emails/s" in done.stdout
    assert "the stdlib parser's speed" in done.stdout
    found = figures(tmp_path / "f")
    assert (f"Email analysis (parse_email), {len(list(EMAILS.glob('*.eml')))} emails", "emails/s") in found
    assert ("Email analysis: speed vs the stdlib parser", "x") in found


def test_sms_analysis_prints_and_writes_figures(tmp_path: Path) -> None:
    args = ["--messages", "100", "--senders", "20", "--ips", "100", "--json", str(tmp_path / "f")]
    done = run_bench("sms_analysis.py", *args)
    assert done.returncode == 0, done.stderr
    assert "messages/s on one core" in done.stdout
    assert "IPv4 cached" in done.stdout
    found = figures(tmp_path / "f")
    assert ("SMS analysis, new bodies", "messages/s") in found
    assert ("IP origin look-up, IPv4 cached", "µs") in found


def test_scoring_prints_and_writes_figures(tmp_path: Path) -> None:
    args = [str(REPO / "rules"), "--messages", "100", "--sizes", "10,50", "--json", str(tmp_path / "f")]
    done = run_bench("scoring.py", *args)
    assert done.returncode == 0, done.stderr
    assert "starter pack" in done.stdout
    assert "50 rules" in done.stdout
    found = figures(tmp_path / "f")
    assert ("Scoring 1 KB, 50 rules", "messages/s") in found
    assert ("Scoring cost, 50 rules vs the smallest pack", "x") in found


def test_ingest_runs_one_small_round(tmp_path: Path) -> None:
    # /proc counts CPU in 10 ms ticks: 30 requests cost the API process about 5 ms, which could read as 0.
    args = ["--requests", "400", "--concurrency", "2", "--rounds", "1", "--json", str(tmp_path / "f")]
    done = run_bench("ingest.py", *args, "--intake-workers", "1")
    assert done.returncode == 0, done.stderr
    assert "non-201: 0" in done.stdout
    cpu = re.search(r"ingest ([\d.]+) ms/report \(API ([\d.]+) \+ intake processes ([\d.]+)\)", done.stdout)
    assert cpu is not None, done.stdout
    total, api, intake = map(float, cpu.groups())
    assert api > 0
    assert intake > 0  # the intake process's CPU is counted: it does most of the work
    assert abs(total - api - intake) < 0.002
    machine = re.search(
        r"machine CPU  : echo ([\d.]+) ms/request \((\d+)% of (\d+) cores busy\), ingest ([\d.]+) ms/report "
        r"\((\d+)% busy\): at that cost \d+ busy cores make at most (\d+)% of the echo ceiling",
        done.stdout,
    )
    assert machine is not None, done.stdout
    echo_ms, _, cores, ingest_ms, busy, bound = map(float, machine.groups())
    assert cores >= 1
    assert ingest_ms >= total * 0.5  # the machine's CPU holds the server's, give or take a /proc tick
    assert 0 < busy <= 100
    assert echo_ms > 0
    assert bound > 0
    found = figures(tmp_path / "f")
    assert found[("Ingest, 1 KB SMS reports over loopback, 2 connections, SQLite", "reports/s")][0] > 0
    assert ("Echo ceiling, 2 connections, SQLite", "req/s") in found
    assert "reports per commit" in done.stdout
    assert "of the echo ceiling (median of the rounds" in done.stdout
    assert done.stdout.count("echo ceiling (round") == 2  # before and after the one ingest round
    # Then as many reports open loop at half the echo ceiling, every one stored.
    paced = re.search(r"paced        : +(\d+) reports/s .* non-201: 0 +\(open loop at 50% of", done.stdout)
    assert paced is not None, done.stdout
    assert int(paced.group(1)) > 0
    open_loop = found[("Ingest, 1 KB SMS reports at 50% of the echo ceiling, open loop", "p99 ms")]
    assert len(open_loop) == 1
    assert open_loop[0] > 0
    # The load generator's own CPU is shown for both loops, so a client that eats the server's cores shows.
    client = re.search(r"load gen CPU : ([\d.]+) ms/request closed loop, ([\d.]+) open loop", done.stdout)
    assert client is not None, done.stdout
    assert float(client.group(1)) > 0
    assert float(client.group(2)) > 0


def test_each_ingest_round_is_set_against_the_echo_runs_on_either_side() -> None:
    def rate(per_second: float) -> LoadResult:
        return LoadResult("x", int(per_second), 1.0, [], {})

    echoes = [rate(4000), rate(6000), rate(2000)]
    ingests = [rate(2500), rate(1000)]
    assert bracketed_ratios(echoes, ingests) == [0.5, 0.25]


def test_the_machine_line_bounds_the_ratio_by_the_cores_and_the_cost_per_report() -> None:
    echo = [RoundCpu(api=0.25, intake=0.0, machine=0.3, busy=0.6)]
    # Every core busy at 1 ms per report makes CORES reports per ms: at an echo of 1,000 x CORES per
    # second, exactly the echo's rate.
    ingest = [RoundCpu(api=0.3, intake=0.5, machine=1.0, busy=0.9)]
    line = machine_line(echo, ingest, echo_rate=1000.0 * CORES)
    assert line is not None
    assert f"ingest 1.000 ms/report (90% busy): at that cost {CORES} busy cores make at most 100% of" in line
    half = machine_line(echo, [RoundCpu(0.3, 0.5, 2.0, 0.9)], echo_rate=1000.0 * CORES)
    assert half is not None
    assert "at most 50% of the echo ceiling" in half
    assert machine_line(echo, [RoundCpu(0.3, 0.5, None, None)], echo_rate=1000.0) is None  # no /proc/stat


def test_the_client_line_shows_the_load_generators_cost_in_either_loop() -> None:
    closed = [RoundCpu(0.3, 0.5, 1.0, 0.9, client=0.04), RoundCpu(0.3, 0.5, 1.0, 0.9, client=0.06)]
    paced = [RoundCpu(0.3, 0.5, 1.2, 0.8, client=0.5)]
    line = client_line(closed, paced)
    assert line.startswith("load gen CPU : 0.050 ms/request closed loop, 0.500 open loop")
    assert "(machine 1.200 ms/report open loop, 80% busy)" in line
    assert client_line(closed, []) == "load gen CPU : 0.050 ms/request closed loop"  # --paced-share 0


def test_pipeline_runs_tiny(tmp_path: Path) -> None:
    args = ["--rate", "5", "--seconds", "1", "--jobs", "5", "--workers", "1", "--json", str(tmp_path / "f")]
    done = run_bench("pipeline.py", *args)
    assert done.returncode == 0, done.stderr
    assert "5 accepted, 5 enriched" in done.stdout
    found = figures(tmp_path / "f")
    assert ("Pipeline, POST to case in queue at 5 reports/s", "p50 ms") in found
    assert found[("Pipeline, enrich jobs drained by 1 worker(s)", "jobs/s")][0] > 0


def test_run_all_dry_run_writes_machine_and_versions(tmp_path: Path) -> None:
    output = tmp_path / "results.md"
    done = run_bench("run_all.py", "--dry-run", "--output", str(output))
    assert done.returncode == 0, done.stderr
    assert "python bench/peers.py tests/files/email --rounds 3" in done.stdout
    text = output.read_text()
    for heading in ("## Machine", "## Versions", "## Figures", "## Commands", "| cores |", "| Python |"):
        assert heading in text
    assert str(REPO) not in text  # no paths of this machine in a file meant to be committed


def test_run_all_quick_tabulates_the_scripts_it_ran(tmp_path: Path) -> None:
    output = tmp_path / "results.md"
    done = run_bench("run_all.py", "--quick", "--only", "email_parse,scoring", "--output", str(output))
    assert done.returncode == 0, done.stderr
    text = output.read_text()
    assert "| email_parse | Email analysis (parse_email), 14 emails | emails/s |" in text
    assert "| scoring | Scoring 1 KB, 100 rules | messages/s |" in text
    assert "quick smoke run" in text


def test_peers_compares_on_three_emails(peers_run: tuple[subprocess.Popen[str], Path]) -> None:
    process, out = peers_run
    assert process.wait(timeout=TIMEOUT) == 0, (out / "stdout.txt").read_text()
    stdout = (out / "stdout.txt").read_text()
    summary = json.loads((out / "peers.json").read_text())
    assert summary["messages"] == 3
    ours = summary["engines"]["ours"]
    assert ours["errors"] == 0
    assert ours["rate_per_core"]["median"] > 0
    assert "messages/s per core" in stdout
    for peer in ("spamassassin", "rspamd"):
        if peer in summary["engines"]:
            assert summary["engines"][peer]["errors"] == 0
            assert f"ours per core vs {peer} per core" in stdout
        else:  # not installed here: skipped with a note, and still exit 0
            assert any(note.startswith(f"{peer} skipped") for note in summary["notes"])
