"""The text the automaton scans: the normalised view with every whitespace run folded to one space.

Keywords are phrases with single spaces, so "tao  giết\nmày" must still read "tao giet may". Offsets map back
through the normalised view to the original text, for evidence. `padded` is the same text with each
character that is not a letter or digit made a space, between two spaces: keyword keys are " giet may ",
so the automaton itself only reports whole words.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

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


# The same table for ASCII text as bytes: bytes.translate is a table lookup in C, several times cheaper
# than str.translate, which looks each character up in the dict above.
_ASCII_WORD_BYTES = bytes(code if chr(code).isalnum() else 0x20 for code in range(128)) + b" " * 128


def word_view(text: str) -> str:
    """`text` with every character that is not a letter or a digit turned into a space (same length)."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_WORD_BYTES).decode("ascii")
    return text.translate(WORD_CHARS)


def phrase_key(phrase: str) -> str:
    """The automaton key of a normalised phrase: its words, single-spaced, with a space on each side."""
    words = word_view(phrase).split()
    return f" {' '.join(words)} " if words else ""


def _has_whitespace_run(text: str) -> bool:
    r"""Whether _WHITESPACE_RUN occurs in `text`, in a few C scans instead of one RE2 call on a str.

    RE2's \s is [\t\n\f\r ], so the pattern occurs exactly where one of \t \n \r \f \v does or, without
    those, where two spaces follow each other. Each single character is a memchr; spelt out, not a generator.
    """
    return "  " in text or "\t" in text or "\n" in text or "\r" in text or "\f" in text or "\v" in text


class ScanView:
    """One text field as scanned, with its way back to the original characters."""

    __slots__ = (
        "_ends",
        "_norm_starts",
        "_scan_starts",
        "_starts",
        "ascii_original",
        "normalized",
        "original",
        "padded",
        "text",
    )

    def __init__(self, original: str) -> None:
        self.original = original
        self.ascii_original = original.isascii()  # then no accent can disagree: skip those checks
        self.normalized: NormalizedView = normalize_text(original[:MAX_SCAN_CHARS])
        source = self.normalized.text
        self._scan_starts = [0]
        self._norm_starts = [0]
        # The normalised view's own offsets, read directly by evidence_text while no run is folded here:
        # accents are checked on the original words of most keyword hits.
        self._starts: Sequence[int] | None = None
        self._ends: Sequence[int] | None = None
        if not _has_whitespace_run(source):
            self.text = source
            self.padded = f" {word_view(source)} "
            self._starts = getattr(self.normalized, "starts", None)
            self._ends = getattr(self.normalized, "ends", None)
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
        starts, ends = self._starts, self._ends
        if starts is not None and ends is not None and 0 <= start < end <= len(self.text):
            span = (starts[start], ends[end - 1])  # what NormalizedText.original_span gives
        else:
            span = self.original_span(start, end)
        return self.original[span[0] : span[1]], span
