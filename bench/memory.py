"""Memory benchmark: how much a process grows while parsing and analysing one large email.

    python bench/memory.py [--size-mib 10] [--limit 5] [--trace] [--json PATH]

Each shape (one big base64 attachment, a big text/plain body, a big HTML body, many small parts, a huge
header block) is generated just under the size and analysed in a fresh subprocess with the service's own
analyzer (service.runtime.build_analyzer: parse, origin, entities, rules), and the analysis is serialised as
the API stores it. The growth is the peak resident set during the analysis (VmHWM, reset just before it
through /proc/self/clear_refs) minus the resident set before it, as a multiple of the message size. The run
fails if any shape grows the process by more than --limit times the message. With --trace, or when a shape
fails, tracemalloc shows which stage and which lines allocate the most.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent
SHAPES = ("attachment", "plain_body", "html_body", "many_parts", "huge_headers")
VIETNAMESE = (
    "Quý khách vui lòng thanh toán khoản nợ trước ngày 25, nếu không chúng tôi sẽ đến tận nhà. "
    "Tài khoản của bạn sẽ bị khoá, gọi ngay 0961 234 567 để xác minh mã OTP. "
    "Chúc mừng bạn đã trúng thưởng, nộp phí hồ sơ vào STK 1903 5555 1234 56 Techcombank. "
)
HEAD = (
    "Received: from mx.example.vn (mx.example.vn [10.0.0.5]) by inbound.example.vn (Postfix) with ESMTP "
    "id A1; Mon, 23 Nov 2026 09:12:44 +0700\r\n"
    "Received: from relay.bulkmail.net (relay.bulkmail.net [185.220.101.4]) by mx.example.vn (Postfix) with "
    "ESMTPS id B2; Mon, 23 Nov 2026 09:12:40 +0700\r\n"
    'From: "Vietcombank" <security@vietcombank.com.vn>\r\nTo: nan@example.vn\r\n'
    "Subject: =?UTF-8?B?VGjDtG5nIGLDoW8geMOhYyBtaW5oIHTDoGkga2hv4bqjbg==?=\r\n"
    "Date: Mon, 23 Nov 2026 09:12:30 +0700\r\nMessage-ID: <big.1@bulkmail.net>\r\nMIME-Version: 1.0\r\n"
)


# --------------------------------------------------------------------------------------------- messages


def build(shape: str, size: int) -> bytes:
    """A well-formed email of about `size` bytes (never over it) in the given shape."""
    builders = {
        "attachment": _attachment,
        "plain_body": _plain_body,
        "html_body": _html_body,
        "many_parts": _many_parts,
        "huge_headers": _huge_headers,
    }
    message = builders[shape](size)
    assert len(message) <= size, (shape, len(message), size)
    return message


def _attachment(size: int) -> bytes:
    head = HEAD + 'Content-Type: multipart/mixed; boundary="m"\r\n\r\n'
    head += "--m\r\nContent-Type: text/plain; charset=utf-8\r\n"
    text = f"{head}\r\n{VIETNAMESE}\r\n--m\r\nContent-Type: application/pdf; name=a.pdf\r\n"
    text += "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n"
    room = size - len(text.encode()) - len("\r\n--m--\r\n") - 1024
    payload = base64.encodebytes(random.Random(1).randbytes(room // 77 * 57))
    return text.encode() + payload + b"\r\n--m--\r\n"


def _plain_body(size: int) -> bytes:
    head = (
        HEAD + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode()
    unit = VIETNAMESE.encode()
    return head + unit * ((size - len(head) - 1024) // len(unit))


def _html_body(size: int) -> bytes:
    head = (
        HEAD + "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode()
    unit = f'<p class="x">{VIETNAMESE}<a href="https://vcb-xacminh.example/?id=1">Xác nhận</a></p>\n'.encode()
    return head + b"<html><body>" + unit * ((size - len(head) - 2048) // len(unit)) + b"</body></html>"


def _many_parts(size: int) -> bytes:
    head = (HEAD + 'Content-Type: multipart/mixed; boundary="p"\r\n\r\n').encode()
    part = f"--p\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{VIETNAMESE * 8}\r\n".encode()
    return head + part * ((size - len(head) - 1024) // len(part)) + b"--p--\r\n"


def _huge_headers(size: int) -> bytes:
    line = b"X-Spam-Report: " + b"tests=BAYES_99,HTML_MESSAGE,RDNS_NONE,URIBL_BLOCKED " * 4 + b"\r\n"
    received = (
        b"Received: from h1.example.net ([198.51.100.7]) by mx.example.org; Mon, 23 Nov 2026 09:00 +0700\r\n"
    )
    tail = b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + VIETNAMESE.encode()
    lines = (size - len(HEAD) - len(tail) - 1024) // (len(line) + len(received))
    return (received + line) * lines + HEAD.encode() + tail


# --------------------------------------------------------------------------------------------- measuring


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> bool:
    """Start VmHWM again from the current resident set (Linux: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure_child(shape: str, size: int, trace: bool) -> dict[str, Any]:
    """In this (fresh) process: load the analyzer, warm it up, then analyse one big message."""
    import orjson

    from service.analysis.inputs import ReportInput
    from service.config import Settings
    from service.runtime import build_analyzer

    analyzer = build_analyzer(Settings(rules_dir=ROOT / "rules"))
    now = datetime.now(UTC)
    # Warm-up: lazy tables, compiled patterns and caches load on the first message, whatever its size.
    orjson.dumps(analyzer.analyze(ReportInput.for_email(build("attachment", 64 * 1024)), now=now))
    message = build(shape, size)
    report = ReportInput.for_email(message)
    if trace:
        return {"shape": shape, "size": len(message), **trace_stages(analyzer, report, now)}
    clean_reset = reset_peak()
    before_kib = status_kib("VmRSS") if clean_reset else status_kib("VmHWM")
    analysis = analyzer.analyze(report, now=now)
    stored = orjson.dumps(analysis)
    peak_kib = status_kib("VmHWM")
    growth = (peak_kib - before_kib) * 1024
    return {
        "shape": shape,
        "size": len(message),
        "rss_before_mib": round(before_kib / 1024, 1),
        "peak_mib": round(peak_kib / 1024, 1),
        "growth_mib": round(growth / MiB, 1),
        "growth_x": round(growth / len(message), 2),
        "ru_maxrss_mib": round(_ru_maxrss_kib() / 1024, 1),
        "peak_reset": clean_reset,
        "level": analysis["risk"]["level"],
        "defects": len(analysis["defects"]),
        "stored_bytes": len(stored),
    }


def _ru_maxrss_kib() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def trace_stages(analyzer: Any, report: Any, now: datetime) -> dict[str, Any]:
    """tracemalloc's peak per stage, and the lines holding the most memory at the analysis' peak."""
    import orjson

    from service.analysis.email_view import email_view
    from service.parsing.email import parse_email

    raw = report.email_raw
    stages: dict[str, Callable[[], object]] = {
        "parse_email": lambda: parse_email(raw, limits=analyzer.email_limits, trust=analyzer.trust),
        "email_view": lambda: email_view(
            raw, limits=analyzer.email_limits, trust=analyzer.trust, ip_lookup=analyzer.ip_lookup,
            home_region=analyzer.home_region,
        ),
        "analyze + orjson": lambda: orjson.dumps(analyzer.analyze(report, now=now)),
    }  # fmt: skip
    tracemalloc.start(10)
    peaks: dict[str, float] = {}
    for name, stage in stages.items():
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        kept = stage()
        peaks[name] = round((tracemalloc.get_traced_memory()[1] - base) / MiB, 1)
        del kept
    snapshot = snapshot_at_peak(stages["analyze + orjson"])
    tracemalloc.stop()
    top = [
        f"{stat.traceback[0].filename.replace(str(ROOT) + '/', '')}:{stat.traceback[0].lineno} "
        f"{stat.size / MiB:.1f} MiB in {stat.count} blocks"
        for stat in (snapshot.statistics("lineno")[:8] if snapshot else [])
    ]
    return {"stage_peak_mib": peaks, "held_at_peak": top}


def snapshot_at_peak(call: Callable[[], object]) -> tracemalloc.Snapshot | None:
    """A snapshot each time traced memory sets a new high (by 1 MiB or more) as functions return.

    At a return the caller's temporaries are still alive, so the last snapshot shows what made the peak.
    """
    best: list[Any] = [tracemalloc.get_traced_memory()[0], None]

    def on_event(_frame: object, event: str, _arg: object) -> None:
        if event in ("return", "c_return"):
            current = tracemalloc.get_traced_memory()[0]
            if current > best[0] + MiB:
                best[0], best[1] = current, tracemalloc.take_snapshot()

    sys.setprofile(on_event)
    try:
        call()
    finally:
        sys.setprofile(None)
    snapshot: tracemalloc.Snapshot | None = best[1]
    return snapshot


def run_child(shape: str, size: int, trace: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", shape, "--size-bytes", str(size)]
    done = subprocess.run(
        [*command, *(["--trace"] if trace else [])],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{shape}: the child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=float, default=10, help="message size (just under it)")
    parser.add_argument("--limit", type=float, default=5.0, help="largest growth allowed, times the message")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--trace", action="store_true", help="tracemalloc stages for every shape")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--child", choices=SHAPES, help=argparse.SUPPRESS)
    parser.add_argument("--size-bytes", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_child(args.child, args.size_bytes, args.trace)))
        return 0
    # Just under the size: a message of exactly MAX_EMAIL_BYTES is allowed, one byte more is refused.
    size = int(args.size_mib * MiB) - 1
    results, failed = [], []
    print(
        f"message size {size / MiB:.2f} MiB; limit {args.limit:g}x the message; each shape in a fresh process"
    )
    for shape in args.shapes.split(","):
        result = run_child(shape, size, trace=False)
        results.append(result)
        verdict = "ok" if result["growth_x"] <= args.limit else "OVER"
        print(
            f"{shape:<13} {result['size'] / MiB:5.2f} MiB: RSS {result['rss_before_mib']:6.1f} -> peak "
            f"{result['peak_mib']:6.1f} MiB, growth {result['growth_mib']:6.1f} MiB "
            f"= {result['growth_x']:.2f}x the message [{verdict}]  "
            f"(level {result['level']}, {result['defects']} defects, "
            f"ru_maxrss {result['ru_maxrss_mib']} MiB)"
        )
        if verdict == "OVER" or args.trace:
            traced = run_child(shape, size, trace=True)
            result["trace"] = traced
            print(f"    tracemalloc peak per stage (MiB): {traced['stage_peak_mib']}")
            for line in traced["held_at_peak"]:
                print(f"    held: {line}")
        if verdict == "OVER":
            failed.append(shape)
    worst = max(results, key=lambda r: r["growth_x"])
    verdict = "FAIL: " + ", ".join(failed) if failed else "PASS"
    print(f"worst: {worst['shape']} {worst['growth_x']:.2f}x; {verdict}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"size": size, "limit": args.limit, "shapes": results}, indent=2)
        )
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
