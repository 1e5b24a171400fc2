"""Length-prefixed frames between the API and an intake process: a small JSON header and opaque bytes.

    >II  header length, payload length
    header (JSON object, orjson)
    payload (the request body one way, the response body the other)

The payload is never parsed here: a reported message crosses as the bytes it arrived as.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from typing import Any, cast

import orjson

PREFIX = struct.Struct(">II")
# A frame larger than this is a bug on our side (the body cap is far smaller): the link is dropped.
MAX_FRAME_BYTES = 256 * 1024 * 1024

FrameHandler = Callable[[dict[str, Any], bytes], None]


def encode_frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    """One frame, ready to write."""
    head = orjson.dumps(header)
    return PREFIX.pack(len(head), len(payload)) + head + payload


class FrameReader:
    """Splits a byte stream into frames, calling `on_frame(header, payload)` for each whole one."""

    def __init__(self, on_frame: FrameHandler) -> None:
        self._on_frame = on_frame
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        while len(buffer) - start >= PREFIX.size:
            head_length, payload_length = PREFIX.unpack_from(buffer, start)
            end = start + PREFIX.size + head_length + payload_length
            if head_length + payload_length > MAX_FRAME_BYTES:
                raise ValueError(f"frame of {head_length + payload_length} bytes is over the limit")
            if len(buffer) < end:
                break
            head_end = start + PREFIX.size + head_length
            header = orjson.loads(bytes(buffer[start + PREFIX.size : head_end]))
            self._on_frame(header, bytes(buffer[head_end:end]))
            start = end
        if start:
            del buffer[:start]


class FrameProtocol(asyncio.Protocol):
    """An asyncio protocol speaking frames; `on_lost` runs once when the other side goes away."""

    def __init__(self, on_frame: FrameHandler, on_lost: Callable[[Exception | None], None]) -> None:
        self._reader = FrameReader(on_frame)
        self._on_lost = on_lost
        self._lost = False
        self._outgoing: list[bytes] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        try:
            self._reader.feed(data)
        except ValueError as exc:  # a corrupt stream cannot be resynchronised: drop the link
            assert self.transport is not None
            self.transport.abort()
            self._lose(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._lose(exc)

    def _lose(self, exc: Exception | None) -> None:
        if not self._lost:
            self._lost = True
            self._on_lost(exc)

    def send(self, header: dict[str, Any], payload: bytes = b"") -> None:
        """Queue a frame; the frames queued in one turn of the loop go out in one write."""
        # A write per frame was a tenth of an intake process's time (py-spy): each is a system call, and each
        # wakes the other side. A group commit answers its reports in the same turn, so they share one.
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outgoing.append(encode_frame(header, payload))

    def close(self) -> None:
        """Send what is queued, then close (the other side reads it all, then the end of the stream)."""
        self._flush()
        if self.transport is not None:
            self.transport.close()

    def _flush(self) -> None:
        frames, self._outgoing = self._outgoing, []
        if frames and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(frames))
