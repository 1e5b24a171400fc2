"""A thin, faster entry to RE2 for the hot paths (Received parsing).

The `re2` wrapper builds a generator, a match object and offset maps per call; for bytes input the
underlying `Match` already returns the spans we need. We use it when present and fall back to the
public API otherwise, so a wrapper change costs speed, never correctness.
"""

from __future__ import annotations

import re2

_UNANCHORED = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)
_Spans = list[tuple[int, int]]


def spans(rx: re2._Regexp, data: bytes) -> _Spans | None:
    """Spans of the whole match and each group ((-1, -1) when a group did not take part), or None."""
    raw = getattr(rx, "_regexp", None)
    if raw is not None and _UNANCHORED is not None:
        found: _Spans = raw.Match(_UNANCHORED, data, 0, len(data))
        return None if found[0][0] < 0 else found
    match = rx.search(data)
    if match is None:
        return None
    return [match.span(i) for i in range(rx.groups + 1)]


def groups(rx: re2._Regexp, data: bytes) -> list[bytes | None] | None:
    """The groups of the first match (None for a group that did not take part), or None."""
    found = spans(rx, data)
    if found is None:
        return None
    return [None if start < 0 else data[start:end] for start, end in found[1:]]


def first_group(rx: re2._Regexp, data: bytes) -> bytes | None:
    """Group 1 of the first match, or None."""
    found = spans(rx, data)
    if found is None or found[1][0] < 0:
        return None
    return data[found[1][0] : found[1][1]]


def matches(rx: re2._Regexp, data: bytes) -> bool:
    """True when the pattern matches somewhere in data."""
    return spans(rx, data) is not None
