"""Speed of the whole email analysis (parse, chain, trust, auth, anomalies) on one core.

Usage: python bench/email_parse.py FOLDER [--limit N] [--repeat R] [--stdlib]

Reads every *.eml of FOLDER into memory first, then times `parse_email` on each one and prints
emails/s with the p50/p99 latency. --stdlib times `email.message_from_bytes(policy=default)` on the
same files, the floor the issue quotes.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.parsing.email import EmailParseError, parse_email


def _ours(raw: bytes) -> object:
    try:
        return parse_email(raw)
    except EmailParseError:
        return None


def _stdlib(raw: bytes) -> object:
    return email.message_from_bytes(raw, policy=email.policy.default)


def run(samples: list[bytes], analyse: Callable[[bytes], object], repeat: int) -> list[float]:
    """Per-email latencies in seconds over `repeat` passes."""
    latencies: list[float] = []
    for _ in range(repeat):
        for raw in samples:
            start = time.perf_counter()
            analyse(raw)
            latencies.append(time.perf_counter() - start)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--stdlib", action="store_true", help="time the stdlib parser instead")
    args = parser.parse_args()
    paths = sorted(args.folder.glob("*.eml"))
    if args.limit:
        paths = paths[: args.limit]
    samples = [p.read_bytes() for p in paths]
    analyse = _stdlib if args.stdlib else _ours
    run(samples[:20], analyse, 1)  # warm caches (codec lookups, lazily loaded data files)
    latencies = run(samples, analyse, args.repeat)
    total = sum(latencies)
    cuts = statistics.quantiles(latencies, n=100)
    size = sum(len(s) for s in samples) / 1e6
    print(
        f"{'stdlib' if args.stdlib else 'parse_email'}: {len(samples)} emails ({size:.1f} MB) x {args.repeat}"
    )
    print(f"emails/s {len(latencies) / total:8.1f}")
    print(f"p50 ms   {cuts[49] * 1000:8.2f}")
    print(f"p99 ms   {cuts[98] * 1000:8.2f}")
    print(f"max ms   {max(latencies) * 1000:8.2f}")


if __name__ == "__main__":
    main()
