"""The benchmark scripts that test_scripts.py does not start: each runs end to end on a tiny input.

No figure is judged: these are benchmarks, not timed tests.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.ab_ingest import setting

REPO = Path(__file__).resolve().parent.parent.parent
EMAILS = REPO / "tests" / "files" / "email"
TEXTS = [
    "Mày liệu hồn, không trả tiền thì đừng trách tao",
    "Chúc mừng bạn đã trúng thưởng 50tr, liên hệ 0912345678 để nhận quà",
    "c0n m4y s3 ch3t n3u k0 tr4 t13n",
    "Hẹn gặp lại cả nhà vào cuối tuần nhé",
]


def run_bench(script: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(REPO / "bench" / script), *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False)


def texts_csv(path: Path, column: str) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([column, "label_id"])
        writer.writerows([text, "0"] for text in TEXTS)
    return path


def test_triage_cost_prints_a_line_per_slice_on_sqlite() -> None:
    done = run_bench("triage_cost.py", "--reports", "20", "--step", "10", "--batch", "5", "--mix", "load")
    assert done.returncode == 0, done.stderr
    assert "reports      1-10" in done.stdout
    assert "reports     11-20" in done.stdout


def test_ingest_cost_prints_every_stage_of_a_report() -> None:
    done = run_bench("ingest_cost.py", "--reports", "20", "--batch", "4", "--rounds", "1")
    assert done.returncode == 0, done.stderr
    for stage in ("validate", "analyse", "rows", "store", "answer", "total"):
        assert f"  {stage}" in done.stdout
    assert "20 SMS reports x 1 rounds, group commits of 4, SQLite" in done.stdout


@pytest.mark.skipif(
    not os.environ.get("TEST_POSTGRES_URL"), reason="bench/triage_workers.py needs PostgreSQL"
)
def test_triage_workers_drains_every_report_with_one_and_two_processes() -> None:
    args = ["--postgres-url", os.environ["TEST_POSTGRES_URL"], "--reports", "40", "--batch", "10"]
    done = run_bench("triage_workers.py", *args, "--name-prefix", "test_bench_tw")
    assert done.returncode == 0, done.stderr
    assert "1 worker process(es): 40 load reports" in done.stdout
    assert "2 worker process(es): 40 load reports" in done.stdout
    assert done.stdout.count("0 left untriaged") == 2


def test_email_accuracy_parses_every_email_of_a_folder() -> None:
    done = run_bench("email_accuracy.py", str(EMAILS))
    assert done.returncode == 0, done.stderr
    parsed = len(list(EMAILS.iterdir()))
    assert f"parse               {parsed} /    {parsed}" in done.stdout


def test_normalize_corpus_counts_texts_and_spans(tmp_path: Path) -> None:
    done = run_bench("normalize_corpus.py", str(texts_csv(tmp_path / "texts.csv", "free_text")))
    assert done.returncode == 0, done.stderr
    assert f"{len(TEXTS)} texts" in done.stdout
    assert "0 raised, 0 bad spans" in done.stdout


def test_rules_corpus_tabulates_levels(tmp_path: Path) -> None:
    corpus = texts_csv(tmp_path / "texts.csv", "free_text")
    done = run_bench(
        "rules_corpus.py", str(REPO / "rules"), str(corpus), "--label-column", "label_id", "--label", "0"
    )
    assert done.returncode == 0, done.stderr
    assert f"{len(TEXTS)} texts" in done.stdout
    assert "high or above:" in done.stdout


def test_ab_ingest_loads_both_checkouts_in_turn(tmp_path: Path) -> None:
    args = ["--b", str(REPO), "--pairs", "2", "--requests", "60", "--concurrency", "2"]
    done = run_bench("ab_ingest.py", *args, "--json", str(tmp_path / "ab.json"))
    assert done.returncode == 0, done.stderr
    loads = [line.split()[:3] for line in done.stdout.splitlines() if " req/s " in line]
    assert [load[:2] for load in loads] == [
        ["A", "warm-up"], ["B", "warm-up"], ["B", "pair"], ["A", "pair"], ["A", "pair"], ["B", "pair"],
    ]  # fmt: skip
    assert "B faster in" in done.stdout
    figures = json.loads((tmp_path / "ab.json").read_text())
    assert len(figures["ratios"]) == 2
    assert all(len(figures["sides"][side]["rates"]) == 2 for side in "AB")


@pytest.fixture
def patched_worktree(tmp_path: Path) -> Iterator[Path]:
    """A worktree of this commit whose intake answers a new report with 202 instead of 201."""
    checkout = tmp_path / "candidate"
    added = subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(checkout), "HEAD"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if added.returncode != 0:
        pytest.skip(f"no git worktree here: {added.stderr.strip()}")
    try:
        answer = checkout / "service" / "intake" / "answer.py"
        code = answer.read_text()
        assert "status = 201 if result.created else 200" in code
        answer.write_text(code.replace("status = 201 if result.created", "status = 202 if result.created"))
        yield checkout
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(checkout)], check=False)


def test_ab_ingest_runs_each_checkouts_own_code(patched_worktree: Path) -> None:
    done = run_bench("ab_ingest.py", "--b", str(patched_worktree), "--pairs", "1", "--requests", "20")
    assert done.returncode != 0
    assert "B: 20 reports were not stored (statuses {202: 20})" in done.stderr
    assert "A warm-up" in done.stdout  # A, this checkout, stored its reports


def test_ab_ingest_gives_each_side_its_own_settings() -> None:
    # The same checkout on both sides; only B's server caps bodies below a 1 KB report, so only B refuses.
    args = ["--b", str(REPO), "--pairs", "1", "--requests", "20", "--env-b", "MAX_BODY_BYTES=200"]
    done = run_bench("ab_ingest.py", *args)
    assert done.returncode != 0
    assert "B: 20 reports were not stored (statuses {413: 20})" in done.stderr
    assert "A warm-up" in done.stdout  # A kept the default cap and stored its reports


def test_ab_ingest_settings_must_read_name_equals_value() -> None:
    assert setting("INTAKE_WORKERS=2") == ("INTAKE_WORKERS", "2")
    assert setting("EMPTY=") == ("EMPTY", "")
    for wrong in ("INTAKE_WORKERS", "=2", "NOT A NAME=1"):
        with pytest.raises(argparse.ArgumentTypeError):
            setting(wrong)
