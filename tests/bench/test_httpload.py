"""bench/httpload.py counts every answer once, however the bytes of it arrive."""

from __future__ import annotations

import asyncio

import pytest

from bench.httpload import http_post, run_load

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
