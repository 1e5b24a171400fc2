"""A text together with, for each of its characters, the span of the original text it came from."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, MutableSequence, Sequence
from dataclasses import dataclass

Edit = tuple[int, int, str]
"""Replace [start, end) of the current text with a string; each new character maps to the whole span."""

# Offsets 0, 1, 2, ... as machine integers. A rewrite of an unmoved text (whose spans are ranges) slices
# this instead of materialising one Python int per character: copying a slice of an array is a memcpy,
# while a list of the same offsets costs ~7 µs per KB of text, twice (starts and ends), per rewrite.
_identity = array("i")


def identity_offsets(start: int, stop: int) -> array[int]:
    """The offsets start, start + 1, ..., stop - 1 as an array (a slice of a table grown on demand)."""
    global _identity  # noqa: PLW0603 - a grow-only table; a racing thread at worst builds it twice
    table = _identity
    if stop > len(table):
        table = array("i", range(max(stop, 2 * len(table), 4096)))
        _identity = table
    return table[start:stop]


def _editable(offsets: Sequence[int]) -> MutableSequence[int]:
    """Offsets in a form that slices and extends cheaply: ranges become arrays, lists stay lists."""
    if isinstance(offsets, range) and offsets.step == 1 and offsets.start >= 0:
        return identity_offsets(offsets.start, offsets.stop)
    if isinstance(offsets, array | list):
        return offsets
    return list(offsets)


@dataclass(frozen=True, slots=True)
class MappedText:
    """Text whose i-th character came from original[starts[i]:ends[i]]; both sequences never decrease.

    The sequences are ranges while nothing has moved (the common case) and arrays after a rewrite (lists
    when folding already made lists).
    """

    text: str
    starts: Sequence[int]
    ends: Sequence[int]

    def rewrite(self, edits: Iterable[Edit]) -> MappedText:
        """Apply sorted, non-overlapping edits; untouched characters keep their spans."""
        edits = list(edits)
        if all(end - start == 1 and len(new) == 1 for start, end, new in edits):
            return self._replace_chars(edits)
        kept = _kept_run(edits, len(self.text))
        if kept is not None:  # only the ends were cut (trimmed spaces): slices, ranges stay ranges
            return MappedText(self.text[kept], self.starts[kept], self.ends[kept])
        # Locals and slices that extend in C: this runs for every text with teencode, on the hot path.
        text, old_starts, old_ends = self.text, _editable(self.starts), _editable(self.ends)
        text_parts: list[str] = []
        starts = old_starts[:0]  # an empty list or array, like the offsets it copies
        ends = old_ends[:0]
        cursor = 0
        for start, end, replacement in edits:
            if cursor < start:
                text_parts.append(text[cursor:start])
                starts.extend(old_starts[cursor:start])
                ends.extend(old_ends[cursor:start])
            if replacement:
                span_start = old_starts[start] if start < end else self._point(start)
                span_end = old_ends[end - 1] if start < end else span_start
                text_parts.append(replacement)
                starts.extend([span_start] * len(replacement))
                ends.extend([span_end] * len(replacement))
            cursor = end
        text_parts.append(text[cursor:])
        starts.extend(old_starts[cursor:])
        ends.extend(old_ends[cursor:])
        return MappedText("".join(text_parts), starts, ends)

    def _replace_chars(self, edits: list[Edit]) -> MappedText:
        """One character for one character: the spans do not move, only the text changes."""
        if not edits:
            return self
        chars = list(self.text)
        for start, _, new in edits:
            chars[start] = new
        return MappedText("".join(chars), self.starts, self.ends)

    def _point(self, index: int) -> int:
        """The original offset of the boundary before character `index`."""
        if index < len(self.starts):
            return self.starts[index]
        return self.ends[-1] if self.ends else 0


def _kept_run(edits: list[Edit], size: int) -> slice | None:
    """The one run of characters that deletions at the start and the end of a text leave, else None."""
    first, last = 0, size
    for start, end, replacement in edits:
        if replacement:
            return None
        if start <= first:
            first = max(first, end)
        elif end == size:
            last = min(last, start)
        else:
            return None
    return slice(first, max(first, last))
