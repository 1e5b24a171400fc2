"""Normalise every text of a CSV corpus: count texts changed by each step, check spans, time it.

Also counts the texts by folding path (whole text in C, sparse, character by character) and prints
the slowest text's time, since no single text may take long.

Usage: python bench/normalize_corpus.py FILE [--column NAME] [--show STEP]
The column defaults to the first of free_text / content / text found in the header.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.parsing.normalize import default_normalizer, normalize
from service.parsing.text.charfold import CharFolder
from service.parsing.text.folding import fold_path

TEXT_COLUMNS = ("free_text", "content", "text", "comment")


def read_texts(path: Path, column: str | None) -> list[str]:
    """The texts of one CSV column."""
    csv.field_size_limit(10_000_000)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        name = column or next((c for c in TEXT_COLUMNS if c in fields), None)
        if name is None:
            raise SystemExit(f"no text column in {fields}; pass --column")
        return [row[name] or "" for row in reader]


def check_spans(text: str) -> int:
    """Number of view characters whose span falls outside the original (should be 0)."""
    result = normalize(text)
    bad = 0
    for index in range(len(result.text)):
        begin, end = result.original_span(index, index + 1)
        if not 0 <= begin < end <= len(text):
            bad += 1
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--column")
    parser.add_argument("--show", help="print up to 15 examples changed by this step")
    args = parser.parse_args()
    texts = read_texts(args.file, args.column)
    counts: Counter[str] = Counter()
    errors = bad_spans = shown = changed = 0
    started = time.process_time()  # CPU time: the machine is shared
    for text in texts:
        try:
            result = normalize(text)
        except Exception as error:  # the point is to count any failure
            errors += 1
            print(f"RAISED {type(error).__name__}: {text[:80]!r}")
            continue
        counts.update(result.steps_applied)
        changed += result.text != text
        if args.show in result.steps_applied and shown < 15:
            shown += 1
            print(f"  {text[:100]!r}\n    -> {result.text[:100]!r}")
    elapsed = time.process_time() - started
    slowest = 0.0
    for text in texts:
        bad_spans += check_spans(text)
        began = time.process_time()
        default_normalizer().normalize(text)
        slowest = max(slowest, time.process_time() - began)
    folder = CharFolder()
    paths = Counter(fold_path(text, folder) for text in texts)
    chars = sum(len(t) for t in texts)
    print(f"{args.file.name}: {len(texts)} texts, {chars} chars, {errors} raised, {bad_spans} bad spans")
    per_text = elapsed / len(texts) * 1e6
    print(f"normalise: {elapsed:.3f} s, {len(texts) / elapsed:,.0f} texts/s, {per_text:.1f} µs CPU/text")
    print(f"  slowest text {slowest * 1e3:.2f} ms; folding paths: {dict(paths.most_common())}")
    print(f"  {'any step':<12} {changed:>7} texts  ({changed / len(texts):6.1%})")
    for step, count in counts.most_common():
        print(f"  {step:<12} {count:>7} texts  ({count / len(texts):6.1%})")


if __name__ == "__main__":
    main()
