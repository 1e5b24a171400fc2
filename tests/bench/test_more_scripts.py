"""The benchmark scripts that test_scripts.py does not start: each runs end to end on a tiny input.

No figure is judged: these are benchmarks, not timed tests.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
