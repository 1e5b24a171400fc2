"""Run the rule pack over a CSV of real texts and count how many reach each level.

    python bench/rules_corpus.py rules/ CORPUS.csv [--column free_text] [--label-column label_id --label 0]

With a label filter it measures only the rows of that label (e.g. the clean comments of ViHSD). Prints the
count and share per level, the share at `high` or above, and the rules behind the queued texts.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from pathlib import Path

from service.scoring import load_ruleset

LEVELS = ("low", "medium", "high", "critical")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("rules", type=Path)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--column", default="free_text")
    parser.add_argument("--label-column")
    parser.add_argument("--label")
    parser.add_argument("--channel", default="sms")
    parser.add_argument("--show", type=int, default=10, help="queued texts to print")
    args = parser.parse_args()

    ruleset = load_ruleset(args.rules)
    levels: Counter[str] = Counter()
    rule_hits: Counter[str] = Counter()
    queued: list[str] = []
    started = time.perf_counter()
    with args.corpus.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if args.label_column and row.get(args.label_column) != args.label:
                continue
            text = row.get(args.column) or ""
            result = ruleset.score({"text": text}, channel=args.channel)
            levels[result.level] += 1
            rule_hits.update(h.rule for h in result.hits)
            if result.level in {"high", "critical"}:
                queued.append(f"{result.score} {[h.rule for h in result.hits if h.score]}: {text[:160]!r}")
    elapsed = time.perf_counter() - started
    total = sum(levels.values())
    print(f"ruleset {ruleset.version}: {len(ruleset.rules)} rules; {total} texts in {elapsed:.1f} s")
    for level in LEVELS:
        print(f"  {level:8} {levels[level]:6}  {100 * levels[level] / max(total, 1):6.2f}%")
    high = levels["high"] + levels["critical"]
    print(f"  high or above: {high} ({100 * high / max(total, 1):.2f}%)")
    print("hits per rule:", ", ".join(f"{rule} {n}" for rule, n in rule_hits.most_common()))
    for line in queued[: args.show]:
        print("  queued:", line)


if __name__ == "__main__":
    main()
