"""Scoring throughput on 1 KB messages: the starter pack, and synthetic packs of 10, 1,000 and 10,000 rules.

    python bench/scoring.py [RULES_DIR] [--messages 2000] [--sizes 10,1000,10000]

Synthetic rules are keyword rules (3 phrases each, a third of them also with a `not` selection) written to a
temporary folder, loaded through the same loader, and scored against the same 1 KB messages. The figure that
matters is the cost at 10,000 rules relative to 10: the automaton grows, the work per message should not.
One thread; times are this process's CPU time (time.process_time), so other jobs on a shared machine
skew them less than wall-clock time would. Figures are indicative.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

from service.scoring import Ruleset, load_ruleset, scanview
from service.scoring.textnorm import normalize_text

SCORING_YAML = """levels: {low: 0, medium: 4, high: 8, critical: 15}
lanes: {critical: urgent, high: review, medium: watch, low: none}
"""
CONSONANTS = "bcdghklmnt"
SYLLABLES = [c + v for c in CONSONANTS for v in "aeiou"]
FILLER = (
    "Chào bạn, hôm nay trời đẹp quá, mình định đi cà phê với mấy đứa bạn rồi chiều ghé chợ mua ít rau. "
    "Tài khoản của tôi vừa nhận được tin nhắn lạ, không biết có phải lừa đảo không. "
    "Hi there, just checking whether the parcel arrived and if you are free for lunch tomorrow. "
)


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3))


def synthetic_rule(index: int, rng: random.Random) -> tuple[str, list[str]]:
    phrases = [f"{word(rng)} {word(rng)}" for _ in range(3)]
    negated = f"\n  unless:\n    text|keywords: [{word(rng)}]" if index % 3 == 0 else ""
    condition = "words and not unless" if negated else "words"
    rule = f"""id: synthetic.r{index}
title: Synthetic rule {index}
description: generated for the benchmark
status: stable
level: low
score: 1
group: synthetic
detection:
  words:
    text|keywords: [{", ".join(phrases)}]{negated}
  condition: {condition}
tests:
  match: ["{phrases[0]}", "{phrases[1]}"]
  no_match: ["nothing", "at all"]
"""
    return rule, phrases


def write_pack(folder: Path, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    (folder / "scoring.yaml").write_text(SCORING_YAML, "utf-8")
    phrases: list[str] = []
    per_file = 1000
    for start in range(0, count, per_file):
        documents = []
        for index in range(start, min(count, start + per_file)):
            rule, rule_phrases = synthetic_rule(index, rng)
            documents.append(rule)
            phrases.extend(rule_phrases)
        (folder / f"synthetic-{start:06d}.yaml").write_text("---\n".join(documents), "utf-8")
    return phrases


def messages(count: int, phrases: list[str], seed: int) -> list[str]:
    """1 KB texts of filler with a few phrases of the pack in each (some rules hit, most do not)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        text = FILLER
        while len(text) < 1000:
            text += (
                rng.choice(phrases) + " " if phrases and rng.random() < 0.1 else FILLER[: rng.randint(20, 80)]
            )
        out.append(text[:1024])
    return out


def throughput(ruleset: Ruleset, texts: list[str]) -> tuple[float, float]:
    """(messages per second, mean hits per message)."""
    started = time.process_time()
    hits = 0
    for text in texts:
        hits += len(ruleset.score({"text": text}, channel="sms").hits)
    elapsed = time.process_time() - started
    return len(texts) / elapsed, hits / len(texts)


def engine_only(ruleset: Ruleset, texts: list[str]) -> float:
    """Messages per second with every text's normalised view computed beforehand: the engine's own cost."""
    views = {text: normalize_text(text) for text in texts}
    original = scanview.normalize_text
    scanview.normalize_text = lambda text: views.get(text) or original(text)  # type: ignore[assignment]
    try:
        return throughput(ruleset, texts)[0]
    finally:
        scanview.normalize_text = original


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("rules", nargs="?", type=Path, default=Path("rules"), help="the real pack to measure")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()

    texts = messages(args.messages, [], seed=1)
    started = time.process_time()
    for text in texts:
        normalize_text(text)
    started = time.process_time()
    for text in texts:
        normalize_text(text)
    normalize_rate = len(texts) / (time.process_time() - started)
    normalize_us = 1e6 / normalize_rate
    print(f"normalisation alone (parsing.normalize): {normalize_rate:,.0f} msgs/s, {normalize_us:.0f} µs/msg")
    figures: list[dict[str, object]] = [
        {"name": "Normalisation alone, 1 KB", "unit": "messages/s", "values": [normalize_rate]}
    ]

    pack = load_ruleset(args.rules)
    rate, hits = throughput(pack, texts)
    engine = engine_only(pack, texts)
    print(
        f"starter pack ({len(pack.rules)} rules): {rate:,.0f} msgs/s ({1e6 / rate:.0f} µs/msg), "
        f"{hits:.2f} hits/msg; engine alone {engine:,.0f} msgs/s ({1e6 / engine:.0f} µs/msg)"
    )
    figures.append({"name": f"Scoring 1 KB, starter pack ({len(pack.rules)} rules)", "unit": "messages/s",
                    "values": [rate]})  # fmt: skip
    figures.append({"name": "Scoring 1 KB, starter pack, engine alone", "unit": "messages/s",
                    "values": [engine]})  # fmt: skip

    base_cost = None
    base_engine = None
    for size in (int(s) for s in args.sizes.split(",")):
        folder = Path(tempfile.mkdtemp(prefix=f"rules-{size}-"))
        try:
            phrases = write_pack(folder, size, seed=size)
            started = time.process_time()
            ruleset = load_ruleset(folder, run_tests=False)
            load_s = time.process_time() - started
            sample = messages(args.messages, phrases, seed=2)
            rate, hits = throughput(ruleset, sample)
            engine = engine_only(ruleset, sample)
        finally:
            shutil.rmtree(folder)
        cost = 1e6 / rate
        base_cost = base_cost or cost
        engine_cost = 1e6 / engine
        base_engine = base_engine or engine_cost
        print(
            f"{size:>6} rules: load {load_s:5.2f} s, {rate:6,.0f} msgs/s ({cost:5.0f} µs/msg, "
            f"x{cost / base_cost:.2f}), engine alone {engine:7,.0f} msgs/s ({engine_cost:4.0f} µs/msg, "
            f"x{engine_cost / base_engine:.2f}), {hits:.2f} hits/msg"
        )
        figures.append({"name": f"Scoring 1 KB, {size:,} rules", "unit": "messages/s", "values": [rate]})
        figures.append({"name": f"Scoring cost, {size:,} rules vs the smallest pack", "unit": "x",
                        "values": [cost / base_cost]})  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"figures": figures}, indent=2))


if __name__ == "__main__":
    main()
