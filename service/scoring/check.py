"""`triage rules check [DIR] [--benign PATH]`: validate a rules folder, run its tests, try it on benign text.

Prints `file:line: message` lines and exits non-zero on any error, so a rules repository can gate
commits on it.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

from service.scoring.errors import RulesetError, errors_only
from service.scoring.fields import LEVELS
from service.scoring.loader import load_ruleset
from service.scoring.ruleset import Ruleset

MAX_BENIGN_FLAGGED_SHOWN = 20
QUEUED_LEVELS = frozenset({"high", "critical"})


def _csv_texts(path: Path, column: str | None) -> Iterator[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader(handle)
        names = reader.fieldnames or []
        chosen = column or next((n for n in names if n.lower() == "text"), None)
        chosen = chosen or next((n for n in names if "text" in n.lower()), None)
        if chosen is None or chosen not in names:
            raise ValueError(f"{path}: no text column (columns: {', '.join(names)}); use --column")
        for number, row in enumerate(reader, start=2):
            text = row.get(chosen) or ""
            if text.strip():
                yield f"{path}:{number}", text


def benign_texts(source: Path, column: str | None = None) -> Iterator[tuple[str, str]]:
    """(where, text) for each benign message: .txt files hold one message each, CSVs one per row."""
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    for path in files:
        if path.suffix == ".csv":
            yield from _csv_texts(path, column)
        elif path.suffix == ".txt":
            yield str(path), path.read_text("utf-8", errors="replace")


def _run_benign(ruleset: Ruleset, source: Path, channel: str, column: str | None) -> int:
    counts: Counter[str] = Counter()
    flagged: list[str] = []
    for where, text in benign_texts(source, column):
        result = ruleset.score({"text": text}, channel=channel)
        counts[result.level] += 1
        if result.level in QUEUED_LEVELS:
            rules = ", ".join(h.rule for h in result.hits if h.score)
            flagged.append(f"{where}: benign text reached {result.level} ({result.score}: {rules})")
    total = sum(counts.values())
    print(f"benign: {total} texts; " + ", ".join(f"{lv} {counts[lv]}" for lv in LEVELS))
    for line in flagged[:MAX_BENIGN_FLAGGED_SHOWN]:
        print(line)
    if len(flagged) > MAX_BENIGN_FLAGGED_SHOWN:
        print(f"... and {len(flagged) - MAX_BENIGN_FLAGGED_SHOWN} more")
    return 1 if flagged else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="triage rules check", description=__doc__)
    parser.add_argument("dir", nargs="?", default="rules", help="rules folder (default: rules)")
    parser.add_argument("--benign", type=Path, help="folder of .txt messages, or a CSV with a text column")
    parser.add_argument("--column", help="CSV column holding the text (default: text, or one containing it)")
    parser.add_argument("--channel", default="sms", choices=["sms", "email"], help="channel for benign texts")
    return parser


def rules_check_main(argv: Sequence[str]) -> int:
    """Entry point of `triage rules check`; returns the exit status."""
    args = _parser().parse_args(list(argv))
    try:
        ruleset = load_ruleset(Path(args.dir), run_tests=True)
    except RulesetError as exc:
        for issue in sorted(exc.issues, key=lambda i: (i.path, i.line or 0)):
            print(issue)
        print(f"{len(errors_only(exc.issues))} error(s); ruleset refused", file=sys.stderr)
        return 1
    for warning in ruleset.warnings:
        print(warning)
    tests = sum(len(rule.tests) for rule in ruleset.rules if rule.status != "deprecated")
    print(f"ok: {len(ruleset.rules)} rules, {tests} tests passed, version {ruleset.version}")
    if args.benign is None:
        return 0
    try:
        return _run_benign(ruleset, args.benign, args.channel, args.column)
    except (OSError, ValueError) as exc:
        print(f"{args.benign}: {exc}")
        return 1


if __name__ == "__main__":
    raise SystemExit(rules_check_main(sys.argv[1:]))
