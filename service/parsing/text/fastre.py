"""RE2 on ASCII bytes with little per-match overhead.

google-re2's `finditer` on str costs ~10 µs a match (it re-encodes and maps offsets each time); the
underlying RE2.Match on bytes costs ~2 µs. Callers give text made ASCII one character per byte
(`ascii_bytes`), so byte offsets are character offsets. When the low-level entry point is missing
(another google-re2 version), the public API on bytes is used: slower, same results.
"""

from __future__ import annotations

from typing import Any, Final

import re2

Span = tuple[int, int]
_MISSING: Final = (-1, -1)


def ascii_bytes(text: str) -> bytes:
    """One byte per character: anything outside ASCII becomes "?", so offsets carry over."""
    return text.encode("ascii", "replace")


class FastPattern:
    """A compiled RE2 pattern over bytes that returns plain spans."""

    __slots__ = ("_anchor", "_low", "_regex", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._regex: Any = re2.compile(pattern.encode("utf-8"))
        low = getattr(self._regex, "_regexp", None)
        anchor = getattr(getattr(getattr(re2, "_re2", None), "RE2", None), "Anchor", None)
        self._low: Any = low if low is not None and anchor is not None else None
        self._anchor: Any = anchor.UNANCHORED if anchor is not None else None

    def search(self, data: bytes, start: int = 0) -> list[Span] | None:
        """Spans of the whole match and each group (missing groups are (-1, -1)), or None."""
        if self._low is not None:
            spans: list[Span] = self._low.Match(self._anchor, data, start, len(data))
            return None if spans[0] == _MISSING else spans
        match = self._regex.search(data, start)
        if match is None:
            return None
        return [match.span(group) for group in range(self._regex.groups + 1)]

    def find_all(self, data: bytes, limit: int) -> list[list[Span]]:
        """Up to `limit` non-overlapping matches, left to right."""
        found: list[list[Span]] = []
        position = 0
        while position <= len(data) and len(found) < limit:
            spans = self.search(data, position)
            if spans is None:
                break
            found.append(spans)
            start, end = spans[0]
            position = end if end > start else end + 1
        return found
