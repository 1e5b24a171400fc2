"""Load test: two `triage serve` replicas and two `triage worker` pools on PostgreSQL and Redis.

    python bench/load.py [--peak 20] [--rate R] [--seconds 600] [--find-max] [--json PATH]

Phase A sends a steady open-loop mix of SMS reports (JSON) and ~20 KB emails (message/rfc822) at `--rate`
reports/s (3 x `--peak` by default), spread over both API replicas as a load balancer would. Phase B sends
the same with 5 % hostile requests: MIME nesting bombs, huge header blocks (50,000 Received lines; 1 MB of
HTTP header lines), oversized bodies (chunked and with Content-Length), invalid JSON, wrong content types, and
NUL characters in a JSON field and in the URL. After each phase the queues must drain.

"2 workers" means two `triage worker` pools, as two worker hosts would run them: each pool is an outbox relay
plus one worker process per queue (critical, high, enrich), so every queue has two consumers.

Pass, per phase: benign failures (not 201) under 1 %, benign p95 under 800 ms (measured from each request's
scheduled start, so a stalled server cannot hide its queueing), hostile requests answered 2xx/4xx and never
5xx, no API or worker process died, every 201 stored (rows = accepted responses) and every report enriched
within 5 minutes of the load stopping. --find-max runs one-minute steps of benign load at rising rates and
also asks each step to be steady: no more than 10 s of intake still waiting for the workers when it stops.

Without --database-url a fresh database is created on --postgres-url and dropped at the end. --redis-url
(default db 13) is flushed before the run: give it a database nobody else uses. Everything talks to
127.0.0.1 only, is bounded in requests and time, and every process started here is stopped by PID.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import redis
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pg_wal import libpq_url
from service.runtime import migrate
from tests.integration.server import TRIAGE, descendants, free_port, run_triage, triage_env

HOST = "127.0.0.1"
QUEUES = ("critical", "high", "enrich")
MiB = 1024 * 1024
REQUEST_TIMEOUT = 60.0
CONNECTIONS_PER_REPLICA = 48
SAMPLE_EVERY = 2.0
PASS_FAILURE_SHARE = 0.01
PASS_P95_MS = 800.0
PASS_DRAIN_SECONDS = 300.0


# --------------------------------------------------------------------------------------------- content

WORDS = (  # noqa: SIM905 (a paragraph reads better than 200 quoted words)
    "anh chị em mình hôm nay ngày mai tuần sau tháng này tiền lương hợp đồng công ty gia đình nhà cửa "
    "xe máy điện thoại tài khoản ngân hàng chuyển khoản nhận được thông báo kiểm tra xác nhận đơn hàng "
    "giao hàng bưu điện hải quan phí vận chuyển khách hàng dịch vụ hỗ trợ tổng đài liên hệ gọi lại sớm "
    "nhất có thể vui lòng cảm ơn xin lỗi chúng tôi các bạn người nhà con cái bố mẹ ông bà trường học "
    "bệnh viện cơ quan công an phường quận thành phố Hà Nội Sài Gòn Đà Nẵng Cần Thơ Hải Phòng Nha Trang "
    "buổi sáng buổi chiều buổi tối cuối tuần lịch hẹn cuộc họp báo cáo hồ sơ giấy tờ chứng minh thư "
    "mã số khuyến mãi ưu đãi quà tặng trúng thưởng giải thưởng nợ khoản vay lãi suất hạn chót thanh toán "
    "đóng cửa mở cửa mưa nắng đường phố kẹt xe quán cà phê bữa cơm sinh nhật đám cưới đi làm về quê"
).split()
THREATS = (
    "tao sẽ giết cả nhà mày",
    "mày liệu hồn đấy",
    "không trả tiền thì đừng trách tao",
    "tao biết nhà mày ở đâu rồi",
    "chặt tay con mày",
    "đốt nhà mày ngay tối nay",
    "tung video của mày lên mạng",
)
SCAMS = (
    "tài khoản của quý khách sẽ bị khoá trong 24 giờ",
    "đọc mã OTP để xác minh",
    "chuyển phí để nhận giải thưởng",
    "bấm vào đường link để nhận quà",
    "công an thông báo bạn liên quan đến vụ án rửa tiền",
)
BANKS = ("Vietcombank", "Techcombank", "BIDV", "VietinBank", "MB Bank", "ACB", "Sacombank")
PROVIDERS = ("gmail.com", "yahoo.com.vn", "outlook.com", "fpt.vn", "vnpt.vn", "viettel.com.vn")
CAMPAIGNS = (
    "Chúc mừng quý khách đã trúng thưởng xe SH mode từ chương trình tri ân khách hàng, vui lòng nộp phí "
    "hồ sơ {} đồng vào số tài khoản {} để nhận giải trước ngày {}.",
    "Mày còn nợ {} triệu, hạn chót là thứ {}, không trả thì tao đến tận nhà mày, gọi {} mà xin.",
    "Cục Hải quan thông báo bưu phẩm {} của bạn bị giữ, nộp phí thông quan tại {} trong {} giờ.",
)


def salad(rng: random.Random, words: int) -> str:
    """Unrelated everyday words: their 3-word shingles never make two reports look like one template."""
    return " ".join(rng.choice(WORDS) for _ in range(words))


def phone(rng: random.Random) -> str:
    return (
        rng.choice(("096", "097", "098", "091", "094", "088", "070", "077")) + f"{rng.randrange(10**7):07d}"
    )


def message_text(rng: random.Random, index: int, words: int) -> str:
    """Everyday text with, one time in two, a threat or a scam in it; one in twenty from a campaign."""
    draw = rng.random()
    if draw < 0.05:
        template = CAMPAIGNS[index % len(CAMPAIGNS)]
        return template.format(rng.randrange(1, 500), rng.randrange(10**12), rng.randrange(1, 28))
    text = salad(rng, words)
    cut = rng.randrange(len(text) // 2, len(text))
    if draw < 0.30:
        return f"{text[:cut]}. {rng.choice(THREATS)}, {text[cut:]}. Gọi {phone(rng)}."
    if draw < 0.55:
        account = f"STK {rng.randrange(10**12):012d} {rng.choice(BANKS)}"
        return f"{text[:cut]}. {rng.choice(SCAMS)}, {account}, {text[cut:]}."
    return text + "."


def sms_body(rng: random.Random, index: int, reference: str) -> bytes:
    """One JSON SMS report with its own reference, as an operator's system sends it."""
    body = {
        "channel": "sms",
        "reference": reference,
        "reporter": {"msisdn": phone(rng)},
        "sms": {
            "sender": phone(rng),
            "text": message_text(rng, index, rng.randrange(20, 60)),
            "operator_facts": {
                "subscription": rng.choice(("prepaid", "postpaid")),
                "sent_24h": rng.randrange(500),
            },
        },
    }
    return orjson.dumps(body)


def public_ip(rng: random.Random) -> str:
    first = rng.choice((14, 27, 42, 45, 58, 103, 113, 115, 117, 171, 185, 194, 203))
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def received_chain(rng: random.Random, victim_host: str, date: str) -> list[str]:
    """Newest first: the victim's provider, a relay, the sender's submission host, the sender's client."""
    relay, origin = public_ip(rng), public_ip(rng)
    relay_name = f"mail{rng.randrange(100)}.{rng.choice(('bulkmail', 'sendgrid', 'smtp-vn', 'vps'))}.net"
    ids = [f"{rng.getrandbits(40):010X}" for _ in range(4)]
    return [
        f"Received: from mx-in.{victim_host} (mx-in.{victim_host} [10.{rng.randrange(256)}.0.5])\r\n"
        f"\tby mailstore.{victim_host} (Postfix) with ESMTP id {ids[0]}\r\n\tfor <nan@{victim_host}>; {date}",
        f"Received: from {relay_name} ({relay_name} [{relay}])\r\n\tby mx-in.{victim_host} (Postfix) with "
        f"ESMTPS id {ids[1]}\r\n\t(version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384)\r\n"
        f"\tfor <nan@{victim_host}>; {date}",
        f"Received: from submit.{relay_name} (submit.{relay_name} [{relay}])\r\n\tby {relay_name} with "
        f"ESMTPSA id {ids[2]}; {date}",
        f"Received: from [192.168.{rng.randrange(256)}.{rng.randrange(2, 250)}] (unknown [{origin}])\r\n"
        f"\tby submit.{relay_name} with ESMTPSA id {ids[3]}; {date}",
    ]


def html_part(rng: random.Random, text: str, link: str) -> str:
    rows = "".join(
        f'<tr><td style="padding:4px;border:1px solid #ccc">{salad(rng, 6)}</td>'
        f'<td style="padding:4px">{rng.randrange(10**6):,} đ</td></tr>\n'
        for _ in range(40)
    )
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Thông báo</title>'
        "<style>body{font-family:Arial,sans-serif;color:#222} .btn{background:#0a7;color:#fff}</style></head>"
        f'<body><div class="wrap"><h2>Thông báo quan trọng</h2><p>{text}</p>'
        f'<p><a class="btn" href="{link}">Xác nhận ngay</a></p><table>{rows}</table>'
        f'<p>{salad(rng, 120)}</p><p style="font-size:11px">Email này được gửi tự động.</p>'
        "</div></body></html>"
    )


def email_body(rng: random.Random, index: int) -> bytes:
    """A ~20 KB forwarded email: a Received chain, text and HTML alternatives, a PDF attachment."""
    victim_host = rng.choice(PROVIDERS)
    sender_domain = f"{rng.choice(('thongbao', 'hotro', 'khachhang', 'uudai'))}-{rng.randrange(10**5)}.com"
    date = f"Mon, 23 Nov 2026 {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d} +0700"
    text = message_text(rng, index, rng.randrange(400, 600))
    link = f"https://{sender_domain}/xac-nhan?id={rng.getrandbits(64):x}"
    boundary, inner = f"=_mixed_{rng.getrandbits(64):x}", f"=_alt_{rng.getrandbits(64):x}"
    subject = base64.b64encode(
        f"Thông báo số {rng.randrange(10**6)} từ {rng.choice(BANKS)}".encode()
    ).decode()
    headers = [
        *received_chain(rng, victim_host, date),
        f"Authentication-Results: mx-in.{victim_host}; spf=softfail smtp.mailfrom={sender_domain};\r\n"
        f"\tdkim=none; dmarc=fail header.from={sender_domain}",
        f'From: "{rng.choice(BANKS)}" <no-reply@{sender_domain}>',
        f"Reply-To: <hotro.{rng.randrange(10**4)}@gmail.com>",
        f"To: nan@{victim_host}",
        f"Subject: =?UTF-8?B?{subject}?=",
        f"Date: {date}",
        f"Message-ID: <{index}.{rng.getrandbits(64):x}@{sender_domain}>",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
    ]
    html = base64.encodebytes(html_part(rng, text, link).encode()).decode()
    attachment = base64.encodebytes(rng.randbytes(2400)).decode()
    parts = [
        f'--{boundary}\r\nContent-Type: multipart/alternative; boundary="{inner}"\r\n',
        f"--{inner}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{text}\r\n{link}\r\n",
        f"--{inner}\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{html}",
        f"--{inner}--\r\n",
        f'--{boundary}\r\nContent-Type: application/pdf; name="hoa-don.pdf"\r\n'
        "Content-Transfer-Encoding: base64"
        f'\r\nContent-Disposition: attachment; filename="hoa-don.pdf"\r\n\r\n{attachment}',
        f"--{boundary}--\r\n",
    ]
    return ("\r\n".join(headers) + "\r\n\r\n" + "\r\n".join(parts)).encode()


# --------------------------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Planned:
    """One request to send: its kind, whether it is benign, and how to send it."""

    kind: str
    benign: bool
    head: bytes
    body: bytes = b""
    chunked: bool = False
    reference: str | None = None


def http_head(path: str, headers: dict[str, str], *, length: int | None, extra: bytes = b"") -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {HOST}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n").encode() + extra + b"\r\n"


class RequestFactory:
    """Builds the requests of a run: benign SMS and email reports, and the hostile kinds."""

    HOSTILE = (
        "nesting_bomb",
        "huge_headers",
        "oversized_chunked",
        "oversized_length",
        "invalid_json",
        "wrong_content_type",
        "huge_http_headers",
        "nul_in_json",
        "nul_in_url",
    )

    def __init__(self, *, key: str, run_id: str, email_share: float, max_body: int) -> None:
        self.auth = {"Authorization": f"Bearer {key}"}
        self.run_id = run_id
        self.email_share = email_share
        # Refused requests are never stored: one oversized body serves every hostile request needing one.
        self.oversized = b"A" * (max_body + MiB)
        self.bomb = _nesting_bomb(depth=2000)
        self.huge_headers = _huge_header_email(received_lines=50_000)

    def reference(self, phase: str, index: int) -> str:
        return f"load-{self.run_id}-{phase}-{index}"

    def benign(self, phase: str, index: int, rng: random.Random) -> Planned:
        reference = self.reference(phase, index)
        if rng.random() < self.email_share:
            body = email_body(rng, index)
            headers = {**self.auth, "Content-Type": "message/rfc822"}
            head = http_head(f"/v1/reports?reference={reference}", headers, length=len(body))
            return Planned("email", True, head, body, reference=reference)
        body = sms_body(rng, index, reference)
        head = http_head("/v1/reports", {**self.auth, "Content-Type": "application/json"}, length=len(body))
        return Planned("sms", True, head, body, reference=reference)

    def hostile(self, phase: str, index: int, rng: random.Random) -> Planned:
        kind = self.HOSTILE[index % len(self.HOSTILE)]
        reference = self.reference(phase, index)
        email_path = f"/v1/reports?reference={reference}"
        email_type = {**self.auth, "Content-Type": "message/rfc822"}
        json_type = {**self.auth, "Content-Type": "application/json"}
        if kind == "nesting_bomb":
            body = self.bomb + f"\r\n{reference}\r\n".encode()
            return Planned(
                kind, False, http_head(email_path, email_type, length=len(body)), body, reference=reference
            )
        if kind == "huge_headers":
            body = f"X-Case: {reference}\r\n".encode() + self.huge_headers
            return Planned(
                kind, False, http_head(email_path, email_type, length=len(body)), body, reference=reference
            )
        if kind == "oversized_chunked":
            return Planned(
                kind, False, http_head(email_path, email_type, length=None), self.oversized, chunked=True
            )
        if kind == "oversized_length":
            expect = {**email_type, "Expect": "100-continue"}
            head = http_head(email_path, expect, length=len(self.oversized))
            return Planned(kind, False, head, self.oversized)
        if kind == "invalid_json":
            body = sms_body(rng, index, reference)[:-7] + b',,"x":}'
            return Planned(kind, False, http_head("/v1/reports", json_type, length=len(body)), body)
        if kind == "wrong_content_type":
            body = sms_body(rng, index, reference)
            wrong = {**self.auth, "Content-Type": rng.choice(("text/plain", "application/xml", "image/png"))}
            return Planned(kind, False, http_head("/v1/reports", wrong, length=len(body)), body)
        if kind == "nul_in_json":  # PostgreSQL cannot store U+0000: refused up front, field by field
            body = sms_body(rng, index, reference).replace(b'"text":"', b'"text":"\\u0000', 1)
            return Planned(kind, False, http_head("/v1/reports", json_type, length=len(body)), body)
        if kind == "nul_in_url":
            body = email_body(rng, index)
            head = http_head(f"/v1/reports?reference={reference}%00", email_type, length=len(body))
            return Planned(kind, False, head, body)
        body = sms_body(rng, index, reference)
        filler = b"".join(b"X-Filler-%d: %s\r\n" % (n, b"f" * 1000) for n in range(1000))  # 1 MB of headers
        head = http_head("/v1/reports", json_type, length=len(body), extra=filler)
        return Planned(kind, False, head, body, reference=reference)


def _nesting_bomb(*, depth: int) -> bytes:
    """multipart/mixed inside multipart/mixed, `depth` times: Python's email package recurses per level."""
    lines = ["From: a@example.com", "To: b@example.com", "Subject: nesting", "MIME-Version: 1.0"]
    for level in range(depth):
        lines += [f'Content-Type: multipart/mixed; boundary="b{level}"', "", f"--b{level}"]
    lines += ["Content-Type: text/plain", "", "deepest"]
    lines += [f"--b{level}--" for level in reversed(range(depth))]
    return "\r\n".join(lines).encode()


def _huge_header_email(*, received_lines: int) -> bytes:
    """Tens of thousands of Received lines (over 1 MB of header block) and a one-line body."""
    received = b"".join(
        b"Received: from h%d.example.net ([198.51.100.%d]) by mx.example.org; "
        b"Mon, 23 Nov 2026 09:00:00 +0700\r\n" % (n, n % 250 + 1)
        for n in range(received_lines)
    )
    return received + b"From: a@example.com\r\nTo: b@example.com\r\nSubject: headers\r\n\r\nbody\r\n"


# --------------------------------------------------------------------------------------------- HTTP client


@dataclass
class Outcome:
    """What one request got: when it was due, how long it took from then, and the answer."""

    kind: str
    benign: bool
    due: float
    latency_ms: float
    status: int
    report: dict[str, Any] | None = None
    error: str | None = None


class ReplicaPool:
    """Keep-alive connections to one API replica, at most `size` at a time.

    As HTTP clients do, a connection idle for longer than the server keeps it (uvicorn: 5 s) is dropped, and
    a request that got no byte back on a reused connection (closed by the server as it was sent) is sent once
    more on a new one. A retried request that had been stored would come back as a 200 replay, and is counted.
    """

    IDLE_SECONDS = 3.0

    def __init__(self, port: int, size: int) -> None:
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.slots = asyncio.Semaphore(size)
        self.retries = 0

    async def send(self, planned: Planned) -> tuple[int, bytes]:
        async with self.slots:
            try:
                return await self._send_on(await self._connection(fresh=False), planned)
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                    raise
                self.retries += 1
                return await self._send_on(await self._connection(fresh=True), planned)

    async def _connection(self, *, fresh: bool) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self.idle and not fresh:
            reader, writer, since = self.idle.pop()
            if time.monotonic() - since < self.IDLE_SECONDS:
                return reader, writer
            writer.close()
        return await asyncio.open_connection(HOST, self.port)

    async def _send_on(
        self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], planned: Planned
    ) -> tuple[int, bytes]:
        reader, writer = connection
        try:
            writer.write(planned.head + planned.body)
            status, body, keep = await _read_response(reader)
        except BaseException:
            writer.close()
            raise
        if keep:
            self.idle.append((reader, writer, time.monotonic()))
        else:
            writer.close()
        return status, body

    def close(self) -> None:
        for _reader, writer, _since in self.idle:
            writer.close()
        self.idle.clear()


async def send_hostile(port: int, planned: Planned) -> tuple[int, bytes]:
    """A hostile request on its own connection; the answer may come while the body is still going out.

    Oversized bodies are sent as careful clients send them (curl, httpx): with `Expect: 100-continue`, waiting
    up to a second for the server to refuse before sending the body. Pushing 11 MiB into a socket the server
    has already answered and closed makes the kernel reset it, and the 413 is lost with the connection.
    """
    reader, writer = await asyncio.open_connection(HOST, port)
    answer = asyncio.ensure_future(_read_final_response(reader))
    try:
        writer.write(planned.head)
        await asyncio.wait({answer}, timeout=1.0 if b"100-continue" in planned.head else 0)
        view = memoryview(planned.body)
        for start in range(0, len(view), 256 * 1024):
            if answer.done():
                break
            chunk = view[start : start + 256 * 1024]
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if planned.chunked else chunk)
            await writer.drain()
        else:
            if planned.chunked:
                writer.write(b"0\r\n\r\n")
    except ConnectionError:
        pass  # the server answered and closed before the whole body went out: read what it said
    try:
        status, body, _keep = await answer
        return status, body
    finally:
        writer.close()


async def _read_final_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """The final response, skipping an interim `100 Continue`."""
    while True:
        status, body, keep = await _read_response(reader)
        if status != 100:
            return status, body, keep


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip().lower()
    if fields.get(b"transfer-encoding") == b"chunked":
        body = await _read_chunked(reader)
    else:
        length = int(fields.get(b"content-length", b"0"))
        body = await reader.readexactly(length) if length else b""
    return status, body, fields.get(b"connection") != b"close"


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    pieces: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(pieces)
        pieces.append(await reader.readexactly(size))
        await reader.readexactly(2)


# --------------------------------------------------------------------------------------------- the processes


@dataclass
class Started:
    """A process this script started, with its role, port (for API replicas) and log file."""

    role: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int | None = None
    children: dict[int, str] = field(default_factory=dict)


class Fleet:
    """The API replicas and worker pools: started, watched, and stopped by PID whatever happens."""

    def __init__(self, env: dict[str, str], var_dir: Path) -> None:
        self.env = env
        self.var_dir = var_dir
        self.members: list[Started] = []

    def start(self, *, replicas: int, pools: int) -> None:
        for number in range(replicas):
            port = free_port()
            self._spawn(f"api-{number + 1}", ["serve", "--no-worker", "--port", str(port)], port)
        for number in range(pools):
            self._spawn(f"worker-{number + 1}", ["worker"], None)
        for member in self.members:
            if member.port is not None:
                _wait_healthy(member)
        time.sleep(3)  # the worker pools start their queue workers
        for member in self.members:
            # The queue workers; RQ's scheduler processes below them come and go by design.
            pid = member.process.pid
            member.children = {child: cmd for child, cmd in descendants(pid) if parent_pid(child) == pid}

    def _spawn(self, role: str, args: list[str], port: int | None) -> None:
        log = self.var_dir / f"{role}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*TRIAGE, *args], env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.members.append(Started(role, process, log, port))

    @property
    def ports(self) -> list[int]:
        return [member.port for member in self.members if member.port is not None]

    def republished(self) -> int:
        """Jobs the reconcilers took for lost and published again, from the worker pools' logs."""
        total = 0
        for member in self.members:
            for line in member.log.read_text(errors="replace").splitlines():
                if "lost job(s) published again" in line:
                    with contextlib.suppress(ValueError, IndexError):
                        total += int(line.split(" lost job(s)")[0].split()[-1])
        return total

    def deaths(self) -> list[str]:
        """Processes that exited (with their exit code) or child workers that were replaced."""
        dead = []
        for member in self.members:
            code = member.process.poll()
            if code is not None:
                dead.append(f"{member.role} (pid {member.process.pid}) exited with {code}")
            alive = {pid for pid, _command in descendants(member.process.pid)}
            for pid, command in member.children.items():
                if pid not in alive:
                    dead.append(f"{member.role} child {pid} ({command.split()[-1]}) died")
            for line in member.log.read_text(errors="replace").splitlines():
                if "restarting" in line or "MemoryError" in line or "RecursionError" in line:
                    dead.append(f"{member.role} log: {line[-160:]}")
        return dead

    def pids(self) -> dict[str, list[int]]:
        """Role -> the process and its descendants."""
        return {
            m.role: [m.process.pid, *(pid for pid, _c in descendants(m.process.pid))] for m in self.members
        }

    def stop(self) -> None:
        for member in self.members:
            if member.process.poll() is None:
                member.process.send_signal(signal.SIGTERM)
        for member in self.members:
            try:
                member.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                # Each was started in a session of its own, so its group holds only what it started.
                os.killpg(member.process.pid, signal.SIGKILL)
                member.process.wait(timeout=10)


def _wait_healthy(member: Started) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if member.process.poll() is not None:
            raise RuntimeError(f"{member.role} exited: {member.log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://{HOST}:{member.port}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{member.role} did not become ready")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process, from /proc/PID/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot, over all its cores (None off Linux).

    Busy is user, nice, system, irq and softirq time: not idle, not waiting for I/O, and not the time a
    hypervisor gave to other guests (steal), which no process here used.
    """
    try:
        first_line = Path("/proc/stat").read_text().split("\n", 1)[0]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in first_line.split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    """VmHWM (the peak resident set) of one process, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def parent_pid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def command_name(pid: int) -> str:
    """`serve --port P`, `worker --queue Q`, or `rq scheduler` for the process RQ forks beside a worker."""
    if "--queue" in command_name_raw(parent_pid(pid)):
        return "rq scheduler of " + command_name_raw(parent_pid(pid))
    return command_name_raw(pid)


def command_name_raw(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [w.decode() for w in argv if w]
    return (
        " ".join(words[words.index("service.cli") + 1 :]) if "service.cli" in words else " ".join(words[-2:])
    )


# --------------------------------------------------------------------------------------------- database


class Store:
    """Reads the run's reports straight from PostgreSQL: counts, enrichment, lost and phantom reports."""

    def __init__(self, url: str) -> None:
        self.dsn = libpq_url(url)

    def stored(self, prefix: str) -> dict[str, tuple[str, bool]]:
        """Report id -> (level, enriched) for every report whose reference starts with `prefix`."""
        with psycopg.connect(self.dsn) as conn:
            rows = conn.execute(
                "SELECT id, level, enriched_at IS NOT NULL FROM reports WHERE reference LIKE %s",
                (prefix + "%",),
            ).fetchall()
        return {row[0]: (row[1], row[2]) for row in rows}

    def backends(self) -> dict[str, int]:
        """This database's busy backends, by what they wait on ("cpu" when on nothing)."""
        with psycopg.connect(self.dsn) as conn:
            rows = conn.execute(
                "SELECT coalesce(wait_event_type || ':' || wait_event, 'cpu'), count(*) "
                "FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
                "AND pid <> pg_backend_pid() GROUP BY 1"
            ).fetchall()
        return {str(row[0]): int(row[1]) for row in rows}

    def waiting(self, prefix: str) -> tuple[int, int]:
        """(reports not yet enriched, of which high or critical)."""
        with psycopg.connect(self.dsn) as conn:
            row = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE level IN ('high', 'critical')) FROM reports "
                "WHERE reference LIKE %s AND enriched_at IS NULL",
                (prefix + "%",),
            ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    """The given database, or a fresh one created on the server and dropped afterwards."""
    if args.database_url:
        yield args.database_url
        return
    name = f"triage_load_{os.getpid()}"
    admin = libpq_url(args.postgres_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield args.postgres_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------------------------- metrics


def scrape(port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Sample name -> [(labels, value)] from one replica's /metrics."""
    text = httpx.get(f"http://{HOST}:{port}/metrics", timeout=10).text
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    return samples


def histogram_summary(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **match: str) -> str:
    """Count, mean and the bucket bound holding p95 of one histogram (summed over the matching series)."""
    buckets: dict[float, float] = {}
    for labels, value in samples.get(f"{name}_bucket", []):
        if all(labels.get(k) == v for k, v in match.items()):
            bound = float(labels["le"])
            buckets[bound] = buckets.get(bound, 0) + value
    count = sum(
        v
        for labels, v in samples.get(f"{name}_count", [])
        if all(labels.get(k) == x for k, x in match.items())
    )
    total = sum(
        v for labels, v in samples.get(f"{name}_sum", []) if all(labels.get(k) == x for k, x in match.items())
    )
    if not count:
        return "none"
    p95 = next((bound for bound, seen in sorted(buckets.items()) if seen >= 0.95 * count), float("inf"))
    if name.endswith("_reports"):  # a size, not a time
        return f"n={count:.0f} mean={total / count:.1f} p95<={p95:g}"
    return f"n={count:.0f} mean={total / count * 1000:.2f} ms p95<={p95 * 1000:g} ms"


def gauges(samples: dict[str, list[tuple[dict[str, str], float]]], name: str) -> dict[str, float]:
    return {labels.get("queue", ""): value for labels, value in samples.get(name, [])}


@dataclass
class Sample:
    at: float
    depth: dict[str, float]
    oldest: dict[str, float]  # as /metrics reports it
    outbox_pending: float
    outbox_lag: float
    oldest_in_redis: dict[str, float] = field(default_factory=dict)  # read from the queue's first job
    db_backends: dict[str, int] = field(default_factory=dict)  # our database's backends by what they wait on


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def queue_ages(connection: redis.Redis) -> dict[str, float]:
    """Age of the first job of each RQ queue, read from Redis (its job hash's enqueued_at)."""
    ages = {}
    now = time.time()
    for queue in QUEUES:
        first = connection.lindex(f"rq:queue:{queue}", 0)
        enqueued = connection.hget(f"rq:job:{_text(first)}", "enqueued_at") if first else None
        if enqueued:
            moment = datetime.fromisoformat(_text(enqueued).replace("Z", "+00:00"))
            ages[queue] = round(now - moment.timestamp(), 1)
        else:
            ages[queue] = 0.0
    return ages


async def sampler(context: Context, started: float, into: list[Sample], stop: asyncio.Event) -> None:
    """Queue depth and age, outbox lag and database waits every SAMPLE_EVERY seconds, until `stop`."""
    while not stop.is_set():
        try:
            samples = await asyncio.to_thread(scrape, context.fleet.ports[0])
            into.append(
                Sample(
                    at=time.monotonic() - started,
                    depth=gauges(samples, "triage_queue_depth"),
                    oldest=gauges(samples, "triage_queue_oldest_seconds"),
                    outbox_pending=gauges(samples, "triage_outbox_pending").get("", 0.0),
                    outbox_lag=gauges(samples, "triage_outbox_lag_seconds").get("", 0.0),
                    oldest_in_redis=await asyncio.to_thread(queue_ages, context.redis),
                    db_backends=await asyncio.to_thread(context.store.backends),
                )
            )
        except (httpx.HTTPError, ValueError, redis.RedisError, psycopg.Error):
            pass
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_EVERY)


# --------------------------------------------------------------------------------------------- a phase


@dataclass
class PhaseResult:
    name: str
    rate: float
    seconds: float
    hostile_share: float
    outcomes: list[Outcome] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    backlog: int = 0  # reports not yet enriched when the load stopped

    @property
    def passed(self) -> bool:
        return all(self.checks.values())


async def drive(
    factory: RequestFactory, ports: list[int], phase: str, rate: float, seconds: float, hostile_share: float
) -> list[Outcome]:
    """Open loop: request i is due at start + i/rate whatever happened to the earlier ones."""
    pools = [ReplicaPool(port, CONNECTIONS_PER_REPLICA) for port in ports]
    rng = random.Random(f"{factory.run_id}-{phase}")
    total = int(rate * seconds)
    outcomes: list[Outcome] = []
    start = time.monotonic() + 0.5

    async def one(index: int) -> None:
        due = start + index / rate
        hostile = rng.random() < hostile_share
        planned = factory.hostile(phase, index, rng) if hostile else factory.benign(phase, index, rng)
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        port_index = index % len(ports)
        outcome = Outcome(planned.kind, planned.benign, due - start, 0.0, 0)
        try:
            sending = send_hostile(ports[port_index], planned) if hostile else pools[port_index].send(planned)
            status, body = await asyncio.wait_for(sending, REQUEST_TIMEOUT)
            outcome.status = status
            if status in (200, 201):
                outcome.report = orjson.loads(body)
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
            ValueError,
        ) as exc:
            outcome.error = f"{type(exc).__name__}: {exc}"[:200]
        outcome.latency_ms = (time.monotonic() - due) * 1000
        outcomes.append(outcome)

    # Requests are created just in time (a few seconds ahead), so memory stays flat for any length of run.
    tasks: set[asyncio.Task[None]] = set()
    for index in range(total):
        while start + index / rate > time.monotonic() + 2:
            await asyncio.sleep(0.2)
        task = asyncio.ensure_future(one(index))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT + 10)
    for pool in pools:
        pool.close()
    retried = sum(pool.retries for pool in pools)
    if retried:
        print(f"(resent {retried} requests whose kept-alive connection the server had closed)")
    return outcomes


def wait_drained(store: Store, prefix: str, timeout: float) -> tuple[float | None, float | None, int]:
    """Seconds until every high-risk / every report of the phase is enriched (None: not within timeout)."""
    started = time.monotonic()
    high_done: float | None = None
    waiting = 0
    while time.monotonic() - started < timeout:
        waiting, high_waiting = store.waiting(prefix)
        if high_waiting == 0 and high_done is None:
            high_done = time.monotonic() - started
        if waiting == 0:
            return high_done, time.monotonic() - started, 0
        time.sleep(1.0)
    return high_done, None, waiting


async def run_phase(
    *,
    context: Context,
    name: str,
    rate: float,
    seconds: float,
    hostile_share: float,
    drain_timeout: float,
) -> PhaseResult:
    result = PhaseResult(name, rate, seconds, hostile_share)
    fleet = context.fleet
    pids = fleet.pids()
    cpu_before = {pid: cpu_seconds(pid) for group in pids.values() for pid in group}
    busy_before, total_before = machine_busy()
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    stop = asyncio.Event()
    started = time.monotonic()
    watcher = asyncio.ensure_future(sampler(context, started, result.samples, stop))
    print(
        f"\n== phase {name}: {rate:.0f} requests/s for {seconds:.0f} s, {hostile_share:.0%} hostile",
        flush=True,
    )
    result.outcomes = await drive(context.factory, fleet.ports, name, rate, seconds, hostile_share)
    load_seconds = time.monotonic() - started
    busy_mid, total_mid = machine_busy()
    cpu_load = {pid: cpu_seconds(pid) for group in pids.values() for pid in group}
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    prefix = context.factory.reference(name, 0)[:-1]
    result.backlog = (await asyncio.to_thread(context.store.waiting, prefix))[0]
    high_drain, drain, left = await asyncio.to_thread(wait_drained, context.store, prefix, drain_timeout)
    stop.set()
    await watcher
    metrics = {port: scrape(port) for port in fleet.ports}
    cpu = {
        "load_seconds": round(load_seconds, 1),
        "machine_busy_percent": round(100 * (busy_mid - busy_before) / max(1, total_mid - total_before), 1),
        "load_generator_cpu_seconds": round(
            self_after.ru_utime + self_after.ru_stime - self_before.ru_utime - self_before.ru_stime, 1
        ),
        "processes": {
            f"{role} {command_name(pid)} [{pid}]": round(cpu_load.get(pid, 0.0) - cpu_before.get(pid, 0.0), 1)
            for role, group in pids.items()
            for pid in group
        },
    }
    summarise(result, context, metrics, cpu, (high_drain, drain, left), prefix)
    return result


@dataclass
class Context:
    fleet: Fleet
    store: Store
    factory: RequestFactory
    redis: redis.Redis
    # False: latency and drain time are printed but do not decide the exit status (the tests' tiny runs).
    judge_timing: bool = True


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summarise(
    result: PhaseResult,
    context: Context,
    metrics: dict[int, dict[str, list[tuple[dict[str, str], float]]]],
    cpu: dict[str, Any],
    drain: tuple[float | None, float | None, int],
    prefix: str,
) -> None:
    """Print the phase's figures and pass/fail checks, and keep them in `result`."""
    benign = [o for o in result.outcomes if o.benign]
    hostile = [o for o in result.outcomes if not o.benign]
    failures = [o for o in benign if o.status not in (200, 201)]
    latencies = [o.latency_ms for o in benign]
    accepted = {str(o.report["id"]) for o in result.outcomes if o.status == 201 and o.report}
    replays = sum(1 for o in result.outcomes if o.status == 200)
    stored = context.store.stored(prefix)
    lost, phantom = accepted - set(stored), set(stored) - accepted
    hostile_by_kind: dict[str, dict[str, int]] = {}
    for o in hostile:
        answer = str(o.status) if o.status else (o.error or "error").split(":")[0]
        kinds = hostile_by_kind.setdefault(o.kind, {})
        kinds[answer] = kinds.get(answer, 0) + 1
    hostile_5xx = [o for o in hostile if o.status >= 500 or not o.status]
    deaths = context.fleet.deaths()
    levels: dict[str, int] = {}
    for level, _enriched in stored.values():
        levels[level] = levels.get(level, 0) + 1
    high_drain, all_drain, left = drain
    by_kind = {
        kind: {
            "requests": len(group),
            "p50_ms": round(percentile(group, 0.5), 1),
            "p95_ms": round(percentile(group, 0.95), 1),
        }
        for kind in ("sms", "email")
        if (group := [o.latency_ms for o in benign if o.kind == kind])
    }
    result.figures = {
        "requests": len(result.outcomes),
        "achieved_rate": round(len(result.outcomes) / max(cpu["load_seconds"], 1e-9), 1),
        "benign": len(benign),
        "benign_failures": len(failures),
        "benign_failure_statuses": _count(str(o.status or o.error) for o in failures),
        "benign_p50_ms": round(percentile(latencies, 0.50), 1),
        "benign_p95_ms": round(percentile(latencies, 0.95), 1),
        "benign_p99_ms": round(percentile(latencies, 0.99), 1),
        "benign_max_ms": round(max(latencies, default=0.0), 1),
        "by_kind": by_kind,
        "hostile": len(hostile),
        "hostile_answers": hostile_by_kind,
        "accepted_201": len(accepted),
        "replayed_200": replays,
        "rows_stored": len(stored),
        "lost": len(lost),
        "stored_without_201": len(phantom),
        "levels": levels,
        "backlog_at_load_end": result.backlog,
        "drain_high_seconds": None if high_drain is None else round(high_drain, 1),
        "drain_all_seconds": None if all_drain is None else round(all_drain, 1),
        "not_enriched_after_timeout": left,
        "deaths": deaths,
        "jobs_republished_by_reconciler_so_far": context.fleet.republished(),
        "cpu": cpu,
        "saturation": saturation(result, metrics, cpu),
        "metrics": metrics_summary(metrics),
    }
    result.checks = {
        "benign failures < 1 %": len(failures) < PASS_FAILURE_SHARE * max(1, len(benign)),
        "benign p95 < 800 ms": percentile(latencies, 0.95) < PASS_P95_MS,
        "hostile answered 2xx/4xx, never 5xx": not hostile_5xx,
        "no process died": not deaths,
        "zero lost reports (rows = 201s)": not lost and not phantom and len(stored) == len(accepted),
        "drained within 5 min": all_drain is not None and all_drain <= PASS_DRAIN_SECONDS,
    }
    if result.name.startswith("max"):
        # A short step drains whatever it piles up; steady means the workers kept up while it ran.
        result.checks["steady: backlog at load end <= 10 s of intake"] = result.backlog <= 10 * result.rate
    if not context.judge_timing:
        for check in ("benign p95 < 800 ms", "drained within 5 min"):
            result.figures.setdefault("not_judged", {})[check] = result.checks.pop(check)
    print_phase(result)


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def metrics_summary(metrics: dict[int, dict[str, list[tuple[dict[str, str], float]]]]) -> dict[str, Any]:
    """Per replica: intake by channel and level, refusals, analysis/store latency, group-commit sizes."""
    summary: dict[str, Any] = {}
    for port, samples in metrics.items():
        summary[f"replica :{port}"] = {
            "reports_total": {
                f"{lb['channel']}/{lb['level']}": v for lb, v in samples.get("triage_reports_total", [])
            },
            "rejected_total": {lb["status"]: v for lb, v in samples.get("triage_reports_rejected_total", [])},
            "analysis_sms": histogram_summary(samples, "triage_analysis_seconds", channel="sms"),
            "analysis_email": histogram_summary(samples, "triage_analysis_seconds", channel="email"),
            "scoring_email": histogram_summary(samples, "triage_scoring_seconds", channel="email"),
            "store": histogram_summary(samples, "triage_store_seconds"),
            "group_commit_reports": histogram_summary(samples, "triage_writer_batch_reports"),
        }
    any_port = next(iter(metrics.values()))
    summary["queues_at_end"] = {
        "depth": gauges(any_port, "triage_queue_depth"),
        "failed": gauges(any_port, "triage_queue_failed"),
        "outbox_pending": gauges(any_port, "triage_outbox_pending").get("", 0.0),
    }
    return summary


def saturation(
    result: PhaseResult,
    metrics: dict[int, dict[str, list[tuple[dict[str, str], float]]]],
    cpu: dict[str, Any],
) -> dict[str, Any]:
    """When each resource first crossed its line during the load, earliest first, and the CPU split."""
    crossings: dict[str, float] = {}
    for sample in result.samples:
        if sample.at > result.seconds + 1:
            break
        if max(sample.oldest_in_redis.values(), default=0) > 30:
            crossings.setdefault("queue age > 30 s (workers behind)", sample.at)
        if sample.outbox_lag > 5:
            crossings.setdefault("outbox lag > 5 s (relay behind)", sample.at)
    for window_start in range(0, int(result.seconds) + 1, 10):
        window = [
            o.latency_ms for o in result.outcomes if o.benign and window_start <= o.due < window_start + 10
        ]
        if window and percentile(window, 0.95) > PASS_P95_MS:
            crossings.setdefault("intake p95 > 800 ms over 10 s (API behind)", float(window_start))
            break
    shares: dict[str, float] = {}
    for name, seconds in cpu["processes"].items():
        group = "api" if name.startswith("api") else "workers"
        shares[group] = shares.get(group, 0.0) + seconds
    shares["load generator"] = cpu["load_generator_cpu_seconds"]
    load = max(cpu["load_seconds"], 1e-9)
    peak = {queue: max((s.depth.get(queue, 0) for s in result.samples), default=0) for queue in QUEUES}
    oldest = {
        queue: max((s.oldest_in_redis.get(queue, 0) for s in result.samples), default=0) for queue in QUEUES
    }
    metric_oldest = max((max(s.oldest.values(), default=0) for s in result.samples), default=0)
    during_load = [s for s in result.samples if s.at <= result.seconds + 1] or result.samples
    waits: dict[str, int] = {}
    for sample in during_load:
        for what, count in sample.db_backends.items():
            waits[what] = waits.get(what, 0) + count
    lock_waits = [sum(n for w, n in s.db_backends.items() if w.startswith("Lock")) for s in during_load]
    return {
        "first": sorted(crossings.items(), key=lambda item: item[1]),
        "cores_used": {group: round(seconds / load, 2) for group, seconds in shares.items()},
        "machine_busy_percent": cpu["machine_busy_percent"],
        "peak_queue_depth": peak,
        "peak_queue_age_seconds": oldest,
        "peak_queue_age_from_metric": metric_oldest,
        "db_active_backends_mean": {
            what: round(total / max(1, len(during_load)), 2) for what, total in sorted(waits.items())
        },
        "db_lock_waiters_peak": max(lock_waits, default=0),
        "peak_outbox_lag_seconds": max((s.outbox_lag for s in result.samples), default=0.0),
    }


def print_phase(result: PhaseResult) -> None:
    f = result.figures
    print(
        f"requests {f['requests']} ({f['achieved_rate']}/s achieved): "
        f"benign {f['benign']}, hostile {f['hostile']}"
    )
    print(
        f"benign latency from scheduled start: p50 {f['benign_p50_ms']} ms, p95 {f['benign_p95_ms']} ms, "
        f"p99 {f['benign_p99_ms']} ms, max {f['benign_max_ms']} ms; by kind {f['by_kind']}"
    )
    print(f"benign failures {f['benign_failures']} {f['benign_failure_statuses']}")
    print(f"hostile answers by kind: {f['hostile_answers']}")
    print(
        f"accepted 201: {f['accepted_201']}, replayed 200: {f['replayed_200']}, "
        f"rows stored: {f['rows_stored']}, "
        f"lost: {f['lost']}, stored without a 201: {f['stored_without_201']}; levels {f['levels']}"
    )
    print(f"backlog when the load stopped: {f['backlog_at_load_end']} reports not yet enriched")
    print(
        f"drain after load: high-risk enriched in {f['drain_high_seconds']} s, all enriched in "
        f"{f['drain_all_seconds']} s (left: {f['not_enriched_after_timeout']})"
    )
    s = f["saturation"]
    first = ", ".join(f"{what} at {at:.0f} s" for what, at in s["first"]) or "nothing crossed its line"
    print(f"saturates first: {first}")
    print(f"cores used: {s['cores_used']}; machine busy {s['machine_busy_percent']} % (2 cores, shared)")
    print(
        f"database backends during the load, mean by wait: {s['db_active_backends_mean']}; "
        f"peak lock waiters {s['db_lock_waiters_peak']}"
    )
    print(
        f"peak queue depth {s['peak_queue_depth']}, "
        f"peak queue age (from Redis) {s['peak_queue_age_seconds']} s "
        f"(/metrics said {s['peak_queue_age_from_metric']} s), "
        f"peak outbox lag {s['peak_outbox_lag_seconds']} s"
    )
    print("cpu seconds per process during the load:")
    for name, seconds in f["cpu"]["processes"].items():
        print(f"  {name:<44} {seconds:7.1f} s")
    print("metrics per replica:")
    for name, values in f["metrics"].items():
        print(f"  {name}: {json.dumps(values, ensure_ascii=False)}")
    print(f"jobs the reconcilers published again (run so far): {f['jobs_republished_by_reconciler_so_far']}")
    for what in f["deaths"]:
        print(f"  DIED: {what}")
    for check, ok in result.checks.items():
        print(f"  [{'pass' if ok else 'FAIL'}] {check}")
    for check, ok in f.get("not_judged", {}).items():
        print(f"  [{'pass' if ok else 'fail'}, not judged] {check}")
    print(f"phase {result.name}: {'PASS' if result.passed else 'FAIL'}", flush=True)


def peak_memory(fleet: Fleet) -> dict[str, dict[str, float]]:
    """VmHWM of every API and worker process (and their children), in MiB."""
    memory: dict[str, dict[str, float]] = {}
    for role, group in fleet.pids().items():
        per_process = {f"{command_name(pid)} [{pid}]": round(peak_rss_mib(pid), 1) for pid in group}
        per_process["total"] = round(sum(per_process.values()), 1)
        memory[role] = per_process
    print("\npeak RSS (VmHWM), MiB:")
    for role, values in memory.items():
        print(f"  {role}: {values}")
    return memory


# --------------------------------------------------------------------------------------------- main


def warm_up(context: Context) -> None:
    """A few reports through every process first, so start-up costs stay out of the figures."""
    asyncio.run(drive(context.factory, context.fleet.ports, "warm", 10, 3, 0.0))
    wait_drained(context.store, context.factory.reference("warm", 0)[:-1], 120)


async def run_phases(context: Context, args: argparse.Namespace) -> list[PhaseResult]:
    results = []
    if args.find_max:
        rate = args.rate
        while rate <= args.max_rate:
            phase = await run_phase(
                context=context,
                name=f"max{rate:.0f}",
                rate=rate,
                seconds=args.step_seconds,
                hostile_share=0.0,
                drain_timeout=args.drain_timeout,
            )
            results.append(phase)
            if not phase.passed:
                break
            rate *= args.step
        passing = [r.rate for r in results if r.passed]
        print(f"\nhighest steady rate that passes: {max(passing) if passing else 'none'} requests/s")
        return results
    for name, share in (("A", 0.0), ("B", args.hostile_share)):
        if name in args.phases:
            results.append(
                await run_phase(
                    context=context,
                    name=name,
                    rate=args.rate,
                    seconds=args.seconds,
                    hostile_share=share,
                    drain_timeout=args.drain_timeout,
                )
            )
    return results


def flush_redis(url: str) -> None:
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    connection.close()


def main() -> int:
    args = parse_args()
    for url in (args.redis_url, args.postgres_url, args.database_url or ""):
        if url and "127.0.0.1" not in url and "localhost" not in url:
            raise SystemExit(f"refusing to talk to anything but 127.0.0.1: {url}")
    signal.signal(signal.SIGTERM, _interrupt)
    flush_redis(args.redis_url)
    with tempfile.TemporaryDirectory(prefix="triage-load-") as tmp, database(args) as database_url:
        migrate(database_url)
        env = triage_env(
            var_dir=Path(tmp),
            database_url=database_url,
            redis_url=args.redis_url,
            SECRET_KEY=os.urandom(24).hex(),
            DB_POOL_SIZE=str(args.pool_size),
        )
        key = run_triage("keys", "create", "--name", f"load-{os.getpid()}", env=env).strip()
        fleet = Fleet(env, Path(tmp))
        try:
            fleet.start(replicas=args.replicas, pools=args.workers)
            print(
                f"{args.replicas} API replicas on ports {fleet.ports}, {args.workers} worker pools "
                f"(relay + one process per queue each), PostgreSQL, Redis {args.redis_url}",
                flush=True,
            )
            factory = RequestFactory(
                key=key, run_id=f"{os.getpid()}", email_share=args.email_share, max_body=10 * MiB
            )
            connection = redis.Redis.from_url(args.redis_url)
            context = Context(
                fleet, Store(database_url), factory, connection, judge_timing=not args.no_timing_checks
            )
            warm_up(context)
            results = asyncio.run(run_phases(context, args))
            memory = peak_memory(fleet)
        finally:
            fleet.stop()
            flush_redis(args.redis_url)
            if args.keep_logs:
                shutil.copytree(tmp, args.keep_logs, dirs_exist_ok=True)
    if args.json:
        write_json(args, results, memory)
    passed = all(r.passed for r in results) if not args.find_max else any(r.passed for r in results)
    print(f"\noverall: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


def write_json(args: argparse.Namespace, results: list[PhaseResult], memory: dict[str, Any]) -> None:
    document = {
        "settings": {k: v for k, v in vars(args).items() if k not in {"json"}},
        "cores": os.cpu_count(),
        "phases": [
            {
                "name": r.name,
                "rate": r.rate,
                "seconds": r.seconds,
                "hostile_share": r.hostile_share,
                "passed": r.passed,
                "checks": r.checks,
                **r.figures,
            }
            for r in results
        ],
        "peak_rss_mib": memory,
    }
    Path(args.json).write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str))


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peak", type=float, default=10, help="the stated peak, reports/s")
    parser.add_argument("--rate", type=float, help="requests/s to send (default: 3 x peak)")
    parser.add_argument("--seconds", type=float, default=600, help="length of each phase")
    parser.add_argument("--phases", default="AB", help="A (benign), B (5 %% hostile), or AB")
    parser.add_argument("--hostile-share", type=float, default=0.05)
    parser.add_argument(
        "--email-share", type=float, default=0.5, help="share of benign reports that are emails"
    )
    parser.add_argument("--drain-timeout", type=float, default=PASS_DRAIN_SECONDS)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="`triage worker` pools")
    parser.add_argument("--pool-size", type=int, default=10, help="DB_POOL_SIZE of every process")
    parser.add_argument(
        "--database-url", help="an existing database (default: a fresh one, dropped at the end)"
    )
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="flushed before and after")
    parser.add_argument("--find-max", action="store_true", help="step the rate up until a step fails")
    parser.add_argument("--step", type=float, default=1.25, help="rate multiplier per --find-max step")
    parser.add_argument("--step-seconds", type=float, default=60)
    parser.add_argument("--max-rate", type=float, default=2000)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--keep-logs", help="copy the API and worker logs to this folder at the end")
    parser.add_argument(
        "--no-timing-checks",
        action="store_true",
        help="print p95 and drain time, but pass or fail without them",
    )
    args = parser.parse_args()
    args.rate = args.rate or 3 * args.peak
    if args.rate <= 0 or args.seconds <= 0:
        parser.error("--rate and --seconds must be positive")
    return args


if __name__ == "__main__":
    sys.exit(main())
