"""A small HTTP/1.1 load generator, closed loop and open loop.

Closed loop (`run_load`): C keep-alive connections each send their next request as soon as the previous answer
arrives. Open loop (`run_paced`): requests fall due at a set rate and are timed from then. A protocol per
connection, on uvloop, keeps the client's own cost per request far below the server's, so the figures measure
the server; `bench/ingest.py` prints that cost with each run.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class LoadResult:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    pacer_wakeups: int = (
        0  # an open loop's pacer turns: one per answer or per millisecond at most, never a spin
    )

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


class _Connection(asyncio.Protocol):
    """One keep-alive connection: asks its load for the next request when the last answer is whole.

    A protocol, not asyncio streams: the client shares the server's cores, and streams (a reader, a writer
    and their futures per request) cost it 0.075 ms of CPU per request, a third of what the echo's server
    spends. Answers are told apart by Content-Length; the server never sends chunked bodies here.
    """

    def __init__(self, load: _Load) -> None:
        self.load = load
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()
        self._buffer = bytearray()
        self._started = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.load.ready(self)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        head_end = buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        body_length = _content_length(bytes(buffer[:head_end]))
        if len(buffer) < head_end + 4 + body_length:
            return
        status = int(buffer[9:12])
        del buffer[: head_end + 4 + body_length]
        self.load.answered(status, time.perf_counter() - self._started)
        self.load.ready(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def send(self, request: bytes, started: float) -> None:
        """Sends `request`; its latency counts from `started` (perf_counter), which may be before now."""
        assert self.transport is not None
        self._started = started
        self.transport.write(request)

    def close(self) -> None:
        assert self.transport is not None
        self.transport.close()


def _content_length(head: bytes) -> int:
    at = head.lower().find(b"\r\ncontent-length:")
    if at < 0:
        return 0
    value_end = head.find(b"\r\n", at + 2)
    return int(head[at + 17 : value_end if value_end >= 0 else len(head)])


class _Load:
    """Closed loop: the requests still to send, shared by the connections, and the answers so far. A ready
    connection sends the next request at once."""

    def __init__(self, make_request: Callable[[int], bytes], total: int, result: LoadResult) -> None:
        self.make_request = make_request
        self.total = total
        self.result = result
        self.sent = 0

    def ready(self, connection: _Connection) -> None:
        if self.sent >= self.total:
            connection.close()
            return
        self.sent += 1
        connection.send(self.make_request(self.sent - 1), time.perf_counter())

    def answered(self, status: int, seconds: float) -> None:
        self.result.latencies_ms.append(seconds * 1000)
        self.result.statuses[status] = self.result.statuses.get(status, 0) + 1


async def run_load(
    name: str, host: str, port: int, make_request: Callable[[int], bytes], *, total: int, concurrency: int
) -> LoadResult:
    """Send `total` requests over `concurrency` connections; returns rates and latencies."""
    result = LoadResult(name, total, 0.0, [], {})
    load = _Load(make_request, total, result)
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    connections = await asyncio.gather(
        *(loop.create_connection(lambda: _Connection(load), host, port) for _ in range(concurrency))
    )
    await asyncio.gather(*(protocol.closed for _, protocol in connections))
    result.seconds = time.perf_counter() - started
    _check_answered(name, result, total)
    return result


# uvloop keeps its timers in whole milliseconds: a shorter sleep fires on the next turn of the loop, so a
# pacer that slept until each due time spun a core (165,000 turns in 0.5 s) at the very rates it measured,
# and took that core from the server. Requests due within the same millisecond go out together, up to 1 ms
# late, and that lateness counts in their latency.
TIMER_MS = 0.001


class _PacedLoad(_Load):
    """Open loop: request i is due at `start` + i / `rate`, whatever happened to the earlier ones, and its
    latency counts from then. A due request goes out on an idle connection; with none idle it waits for the
    next answer, and the wait is part of its latency, so a server that falls behind shows it."""

    def __init__(
        self, make_request: Callable[[int], bytes], total: int, result: LoadResult, rate: float
    ) -> None:
        super().__init__(make_request, total, result)
        self.rate = rate
        self.start = 0.0
        self.idle: list[_Connection] = []
        self.wake = asyncio.Event()  # a connection went idle, or the last request went out

    def due(self, index: int) -> float:
        return self.start + index / self.rate

    def ready(self, connection: _Connection) -> None:
        if self.sent >= self.total:
            connection.close()
        elif self.due(self.sent) <= time.perf_counter():
            self.sent += 1
            connection.send(self.make_request(self.sent - 1), self.due(self.sent - 1))
            if self.sent == self.total:
                self.wake.set()
        else:
            self.idle.append(connection)
            self.wake.set()

    async def pace(self) -> None:
        """Hands each request to an idle connection when it falls due, then closes the idle ones. With every
        connection busy it sleeps until one comes back: the answer that frees it sends what is due."""
        while self.sent < self.total:
            self.result.pacer_wakeups += 1
            if not self.idle:
                self.wake.clear()
                await self.wake.wait()
                continue
            wait = self.due(self.sent) - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(max(wait, TIMER_MS))
            while self.idle and self.sent < self.total and self.due(self.sent) <= time.perf_counter():
                self.ready(self.idle.pop())
        for connection in self.idle:
            connection.close()


async def run_paced(
    name: str,
    host: str,
    port: int,
    make_request: Callable[[int], bytes],
    *,
    total: int,
    rate: float,
    connections: int = 64,
) -> LoadResult:
    """Send `total` requests at `rate` per second (open loop) over up to `connections` connections."""
    result = LoadResult(name, total, 0.0, [], {})
    load = _PacedLoad(make_request, total, result, rate)
    load.start = time.perf_counter() + 3600  # nothing is due while the connections open
    loop = asyncio.get_running_loop()
    opened = await asyncio.gather(
        *(loop.create_connection(lambda: _Connection(load), host, port) for _ in range(connections))
    )
    load.start = time.perf_counter()
    await load.pace()
    await asyncio.gather(*(protocol.closed for _, protocol in opened))
    result.seconds = time.perf_counter() - load.start
    _check_answered(name, result, total)
    return result


def _check_answered(name: str, result: LoadResult, total: int) -> None:
    answered = sum(result.statuses.values())
    if answered != total:
        raise RuntimeError(f"{name}: {total - answered} of {total} requests went unanswered")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run the load's coroutine on uvloop when it is installed (uvicorn's standard extra brings it): the
    client's own CPU per request is then lower still, and it shares the server's cores."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


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
