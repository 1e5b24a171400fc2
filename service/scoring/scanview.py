"""The text the automaton scans: the normalised view with every whitespace run folded to one space.

Keywords are phrases with single spaces, so "tao  giết\nmày" must still read "tao giet may". Offsets map back
through the normalised view to the original text, for evidence.
"""

from __future__ import annotations

from bisect import bisect_right

import re2

from service.scoring.textnorm import NormalizedView, normalize_text

_WHITESPACE_RUN = re2.compile(r"(?:\s{2,}|[\t\n\r\f\v])\s*")
MAX_SCAN_CHARS = 256 * 1024


class ScanView:
    """One text field as scanned, with its way back to the original characters."""

    __slots__ = ("_norm_starts", "_scan_starts", "ascii_original", "normalized", "original", "text")

    def __init__(self, original: str) -> None:
        self.original = original
        self.ascii_original = original.isascii()  # then no accent can disagree: skip those checks
        self.normalized: NormalizedView = normalize_text(original[:MAX_SCAN_CHARS])
        source = self.normalized.text
        self._scan_starts = [0]
        self._norm_starts = [0]
        if _WHITESPACE_RUN.search(source) is None:
            self.text = source
            return
        pieces: list[str] = []
        scanned = 0
        last = 0
        for match in _WHITESPACE_RUN.finditer(source):
            start, end = match.span()
            pieces.append(source[last:start])
            pieces.append(" ")
            scanned += start - last + 1
            self._scan_starts.append(scanned)
            self._norm_starts.append(end)
            last = end
        pieces.append(source[last:])
        self.text = "".join(pieces)

    def _to_normalized(self, index: int) -> int:
        segment = bisect_right(self._scan_starts, index) - 1
        return self._norm_starts[segment] + (index - self._scan_starts[segment])

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span in the original text of scanned characters [start, end)."""
        if len(self._scan_starts) == 1:  # no run was folded: scanned and normalised offsets are the same
            return self.normalized.original_span(start, end)
        norm_start = self._to_normalized(start)
        norm_end = self._to_normalized(end - 1) + 1 if end > start else norm_start
        return self.normalized.original_span(norm_start, norm_end)

    def evidence_text(self, start: int, end: int) -> tuple[str, tuple[int, int]]:
        """The original characters behind scanned [start, end), with their span."""
        span = self.original_span(start, end)
        return self.original[span[0] : span[1]], span
