"""bench/httpload.py counts every answer once, however the bytes of it arrive."""

from __future__ import annotations

import asyncio

import pytest

from bench.httpload import LoadResult, http_post, run, run_load, run_paced

ANSWERS = [
    b"HTTP/1.1 201 Created\r\ncontent-length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n",
    b'HTTP/1.1 422 Unprocessable Content\r\nContent-Length: 12\r\n\r\n{"bad": 1}\r\n',
]


async def _answer_in_pieces(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers each request with the next of ANSWERS, written a few bytes at a time."""
    served = 0
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            answer = ANSWERS[served % len(ANSWERS)]
            served += 1
            for start in range(0, len(answer), 7):
                writer.write(answer[start : start + 7])
                await writer.drain()
                await asyncio.sleep(0)
    except asyncio.IncompleteReadError:  # the client is done with this connection
        writer.close()


@pytest.mark.parametrize("concurrency", [1, 3])
def test_every_answer_is_counted_once_whatever_its_pieces(concurrency: int) -> None:
    async def load() -> tuple[int, dict[int, int], int]:
        server = await asyncio.start_server(_answer_in_pieces, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            result = await run_load(
                "test",
                "127.0.0.1",
                port,
                lambda i: http_post("/x", "127.0.0.1", b'{"n": %d}' % i, {}),
                total=30,
                concurrency=concurrency,
            )
        return result.requests, result.statuses, len(result.latencies_ms)

    requests, statuses, latencies = asyncio.run(load())
    assert requests == 30
    assert latencies == 30
    assert sum(statuses.values()) == 30
    # One connection sees the answers in turn; three connections share them out in some order.
    assert set(statuses) == {201, 200, 422}
    if concurrency == 1:
        assert statuses == {201: 10, 200: 10, 422: 10}


def test_a_server_that_hangs_up_early_is_reported() -> None:
    async def hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async def load() -> None:
        server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            await run_load(
                "test",
                "127.0.0.1",
                port,
                lambda i: http_post("/x", "127.0.0.1", b"{}", {}),
                total=4,
                concurrency=2,
            )

    with pytest.raises(RuntimeError, match="4 of 4 requests went unanswered"):
        asyncio.run(load())


async def _answer_after(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Answers each request `delay` seconds after it arrives, one at a time per connection."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            await asyncio.sleep(delay)
            writer.write(ANSWERS[0])
    except asyncio.IncompleteReadError:
        writer.close()


def _paced(*, rate: float, total: int, connections: int, delay: float) -> LoadResult:
    async def load() -> LoadResult:
        server = await asyncio.start_server(lambda r, w: _answer_after(r, w, delay), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await run_paced(
                "paced",
                "127.0.0.1",
                port,
                lambda i: http_post("/x", "127.0.0.1", b'{"n": %d}' % i, {}),
                total=total,
                rate=rate,
                connections=connections,
            )

    return run(load())  # on uvloop, as the benchmarks run, where it is installed


def test_a_paced_load_sends_each_request_when_it_falls_due() -> None:
    result = _paced(rate=200, total=40, connections=8, delay=0)
    assert result.statuses == {201: 40}
    assert len(result.latencies_ms) == 40
    # Request i is not sent before start + i / rate, so the last goes out after 39 / 200 s at the earliest,
    # where a closed loop would have sent all 40 to a server that answers at once in a few milliseconds.
    assert result.seconds >= 39 / 200


def test_a_paced_load_counts_the_wait_for_a_free_connection_as_latency() -> None:
    # 20 requests due within 0.1 s, one connection, 20 ms per answer: the last is answered about 0.4 s after
    # the first was sent, 0.3 s after it fell due. A closed loop would time each at 20 ms.
    result = _paced(rate=200, total=20, connections=1, delay=0.02)
    assert result.statuses == {201: 20}
    assert max(result.latencies_ms) > 200
    assert min(result.latencies_ms) >= 19  # uvloop's timers keep whole ms: the server's 20 ms may be 19.8


@pytest.mark.parametrize(
    ("rate", "connections", "delay"),
    [(1000, 1, 0.02), (2000, 4, 0)],
    ids=["behind: every connection busy", "ahead: requests due every half millisecond"],
)
def test_the_pacer_sleeps_between_requests_and_never_spins(
    rate: float, connections: int, delay: float
) -> None:
    # The pacer shares the server's cores. It wakes once per answer that frees a connection or once per
    # millisecond of its timers at most, where a pacer that slept for less than uvloop's millisecond turned
    # its loop 100,000 times in a 0.4 s run and took a core from the server it measured.
    result = _paced(rate=rate, total=200 if delay == 0 else 20, connections=connections, delay=delay)
    assert sum(result.statuses.values()) == result.requests
    assert 0 < result.pacer_wakeups <= result.seconds * 1000 + result.requests + 1
