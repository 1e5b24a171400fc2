"""Speed of the whole email analysis (parse, chain, trust, auth, anomalies) on one core.

Usage: python bench/email_parse.py FOLDER [--limit N] [--repeat R] [--stdlib]

Reads every *.eml of FOLDER into memory first, then times `parse_email` on each one and prints
emails/s with the p50/p99 latency. --stdlib also times `email.message_from_bytes(policy=default)`
(the floor the issue quotes) on the same emails, alternating whole passes, and prints the speed
ratio: on a shared machine the ratio is steadier than either absolute figure.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
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


def run(samples: list[bytes], analyse: Callable[[bytes], object]) -> list[float]:
    """Per-email latencies in seconds for one pass over the samples."""
    latencies: list[float] = []
    for raw in samples:
        start = time.perf_counter()
        analyse(raw)
        latencies.append(time.perf_counter() - start)
    return latencies


def best_passes(
    samples: list[bytes], analysers: list[Callable[[bytes], object]], repeat: int
) -> list[list[float]]:
    """Alternate whole passes of each analyser `repeat` times and keep each one's fastest pass:
    on a shared, noisy machine the best pass is the steadiest estimate of what one core does."""
    best: list[list[float] | None] = [None for _ in analysers]
    for _ in range(repeat):
        for index, analyse in enumerate(analysers):
            latencies = run(samples, analyse)
            current = best[index]
            if current is None or sum(latencies) < sum(current):
                best[index] = latencies
    return [latencies for latencies in best if latencies is not None]


def report(name: str, latencies: list[float]) -> dict[str, float]:
    """Print throughput and latency percentiles; returns them too."""
    cuts = statistics.quantiles(latencies, n=100)
    figures = {
        "emails/s": len(latencies) / sum(latencies),
        "p50 ms": cuts[49] * 1000,
        "p99 ms": cuts[98] * 1000,
    }
    print(f"{name}")
    print(f"  emails/s {figures['emails/s']:8.1f}")
    print(f"  p50 ms   {figures['p50 ms']:8.2f}")
    print(f"  p99 ms   {figures['p99 ms']:8.2f}")
    print(f"  max ms   {max(latencies) * 1000:8.2f}")
    return figures


def write_json(path: Path, figures: list[dict[str, object]]) -> None:
    """The figures for bench/run_all.py: name, unit and the values of this run."""
    path.write_text(json.dumps({"figures": figures}, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="passes; the fastest is reported")
    parser.add_argument("--stdlib", action="store_true", help="also time the stdlib parser")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    paths = sorted(args.folder.glob("*.eml"))
    if args.limit:
        paths = paths[: args.limit]
    samples = [p.read_bytes() for p in paths]
    analysers = [_ours, _stdlib] if args.stdlib else [_ours]
    for analyse in analysers:
        run(samples[:50], analyse)  # warm caches (codec lookups, data files, RE2 DFA states)
    latencies = best_passes(samples, analysers, args.repeat)
    size = sum(len(s) for s in samples) / 1e6
    print(f"{len(samples)} emails ({size:.1f} MB), best of {args.repeat} passes, one process, one core")
    ours = report("parse_email (parse, chain, trust, auth, anomalies, body, URLs)", latencies[0])
    figures: list[dict[str, object]] = [
        {"name": f"Email analysis (parse_email), {len(samples)} emails", "unit": unit, "values": [value]}
        for unit, value in ours.items()
    ]
    if args.stdlib:
        stdlib = report("email.message_from_bytes(policy=default), for reference", latencies[1])
        ratio = sum(latencies[1]) / sum(latencies[0])
        print(f"parse_email is {ratio:.2f}x the stdlib parser's speed on the same emails")
        figures.append({"name": "Email: stdlib message_from_bytes(policy=default)", "unit": "emails/s",
                        "values": [stdlib["emails/s"]]})  # fmt: skip
        figures.append({"name": "Email analysis: speed vs the stdlib parser", "unit": "x", "values": [ratio]})
    if args.json:
        write_json(args.json, figures)


if __name__ == "__main__":
    main()
