"""A small closed-loop HTTP/1.1 load generator.

C keep-alive connections each send their next request as soon as the previous answer arrives. Raw asyncio
streams keep the client's own cost per request far below the server's, so the figures measure the server.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class LoadResult:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def line(self) -> str:
        return (
            f"{self.name:<28} {self.rate:8.0f} req/s   p50 {self.percentile(0.50):6.1f} ms   "
            f"p99 {self.percentile(0.99):6.1f} ms   statuses {dict(sorted(self.statuses.items()))}"
        )


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _connection(
    host: str,
    port: int,
    make_request: Callable[[int], bytes],
    counter: list[int],
    total: int,
    result: LoadResult,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while counter[0] < total:
            index = counter[0]
            counter[0] += 1
            started = time.perf_counter()
            writer.write(make_request(index))
            status = await _read_response(reader)
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.statuses[status] = result.statuses.get(status, 0) + 1
    finally:
        writer.close()


async def run_load(
    name: str, host: str, port: int, make_request: Callable[[int], bytes], *, total: int, concurrency: int
) -> LoadResult:
    """Send `total` requests over `concurrency` connections; returns rates and latencies."""
    result = LoadResult(name, total, 0.0, [], {})
    counter = [0]
    started = time.perf_counter()
    await asyncio.gather(
        *(_connection(host, port, make_request, counter, total, result) for _ in range(concurrency))
    )
    result.seconds = time.perf_counter() - started
    return result


def http_post(path: str, host: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One HTTP/1.1 POST request, as bytes."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def spread(values: list[float]) -> str:
    """Median and range of repeated runs, e.g. '1,234 (1,200-1,250)'."""
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"
