"""A text together with, for each of its characters, the span of the original text it came from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Edit = tuple[int, int, str]
"""Replace [start, end) of the current text with a string; each new character maps to the whole span."""


@dataclass(frozen=True, slots=True)
class MappedText:
    """Text whose i-th character came from original[starts[i]:ends[i]]; both sequences never decrease.

    The sequences are ranges while nothing has moved (the common case) and lists after a rewrite.
    """

    text: str
    starts: Sequence[int]
    ends: Sequence[int]

    def rewrite(self, edits: Iterable[Edit]) -> MappedText:
        """Apply sorted, non-overlapping edits; untouched characters keep their spans."""
        edits = list(edits)
        if all(end - start == 1 and len(new) == 1 for start, end, new in edits):
            return self._replace_chars(edits)
        # Locals and `+=` on lists: this runs for every text with teencode, on the hot path.
        text, old_starts, old_ends = self.text, self.starts, self.ends
        text_parts: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        cursor = 0
        for start, end, replacement in edits:
            if cursor < start:
                text_parts.append(text[cursor:start])
                starts += old_starts[cursor:start]
                ends += old_ends[cursor:start]
            if replacement:
                span_start = old_starts[start] if start < end else self._point(start)
                span_end = old_ends[end - 1] if start < end else span_start
                text_parts.append(replacement)
                starts += [span_start] * len(replacement)
                ends += [span_end] * len(replacement)
            cursor = end
        text_parts.append(text[cursor:])
        starts += old_starts[cursor:]
        ends += old_ends[cursor:]
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
