"""Frames between the API and its intake processes: whole frames out, whatever the reads cut them into."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.intake.frames import MAX_FRAME_BYTES, PREFIX, FrameReader, encode_frame

headers = st.dictionaries(
    st.text(max_size=8),
    st.one_of(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.text(max_size=20), st.none()),
    max_size=4,
)
frames = st.lists(st.tuples(headers, st.binary(max_size=300)), max_size=12)


@given(frames=frames, cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=20))
def test_frames_come_out_whole_and_in_order_however_the_stream_is_cut(
    frames: list[tuple[dict[str, Any], bytes]], cuts: list[int]
) -> None:
    stream = b"".join(encode_frame(header, payload) for header, payload in frames)
    received: list[tuple[dict[str, Any], bytes]] = []
    reader = FrameReader(lambda header, payload: received.append((header, payload)))
    start = 0
    for cut in sorted({c for c in cuts if c < len(stream)}):
        reader.feed(stream[start:cut])
        start = cut
    reader.feed(stream[start:])
    assert received == frames


def test_a_payload_crosses_byte_for_byte() -> None:
    # A reported message is never decoded on the way: invalid UTF-8 and NUL bytes arrive as sent.
    payload = b"\x00\xff\xfe raw \r\n\r\n bytes \xed\xa0\x80"
    received: list[bytes] = []
    FrameReader(lambda _header, body: received.append(body)).feed(encode_frame({"id": 1}, payload))
    assert received == [payload]


def test_a_frame_over_the_limit_is_refused_before_it_is_buffered() -> None:
    reader = FrameReader(lambda _header, _payload: pytest.fail("no frame may come out"))
    with pytest.raises(ValueError, match="over the limit"):
        reader.feed(PREFIX.pack(10, MAX_FRAME_BYTES))


def test_a_partial_frame_waits_for_the_rest() -> None:
    received: list[dict[str, Any]] = []
    reader = FrameReader(lambda header, _payload: received.append(header))
    frame = encode_frame({"id": 7}, b"body")
    reader.feed(frame[:-1])
    assert received == []
    reader.feed(frame[-1:])
    assert received == [{"id": 7}]
