"""The text the automaton scans: the normalised view with every whitespace run folded to one space.

Keywords are phrases with single spaces, so "tao  giết\nmày" must still read "tao giet may". Offsets map back
through the normalised view to the original text, for evidence. `padded` is the same text with each
character that is not a letter or digit made a space, between two spaces: keyword keys are " giet may ",
so the automaton itself only reports whole words.
"""

from __future__ import annotations

from bisect import bisect_right

import re2

from service.scoring.textnorm import NormalizedView, normalize_text

_WHITESPACE_RUN = re2.compile(r"(?:\s{2,}|[\t\n\r\f\v])\s*")
MAX_SCAN_CHARS = 256 * 1024
MAX_CACHED_CHARS = 65_536


class _WordChars(dict[int, int]):
    """str.translate table: letters and digits stay, everything else becomes a space (filled on demand)."""

    def __missing__(self, code: int) -> int:
        value = code if chr(code).isalnum() else 0x20
        if len(self) < MAX_CACHED_CHARS:  # attacker text may hold any code point: bound the cache
            self[code] = value
        return value


WORD_CHARS = _WordChars()


def word_view(text: str) -> str:
    """`text` with every character that is not a letter or a digit turned into a space (same length)."""
    return text.translate(WORD_CHARS)


def phrase_key(phrase: str) -> str:
    """The automaton key of a normalised phrase: its words, single-spaced, with a space on each side."""
    words = word_view(phrase).split()
    return f" {' '.join(words)} " if words else ""


class ScanView:
    """One text field as scanned, with its way back to the original characters."""

    __slots__ = ("_norm_starts", "_scan_starts", "ascii_original", "normalized", "original", "padded", "text")

    def __init__(self, original: str) -> None:
        self.original = original
        self.ascii_original = original.isascii()  # then no accent can disagree: skip those checks
        self.normalized: NormalizedView = normalize_text(original[:MAX_SCAN_CHARS])
        source = self.normalized.text
        self._scan_starts = [0]
        self._norm_starts = [0]
        if _WHITESPACE_RUN.search(source) is None:
            self.text = source
            self.padded = f" {word_view(source)} "
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
        # Index i of `text` is index i + 1 of `padded`; keyword keys carry a space on each side, so only
        # whole words match, at the start and end of the text too.
        self.padded = f" {word_view(self.text)} "

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
