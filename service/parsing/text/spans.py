"""A text together with, for each of its characters, the span of the original text it came from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from service.parsing.text.charfold import CharFolder

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
        text_parts: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        cursor = 0
        for start, end, replacement in edits:
            text_parts.append(self.text[cursor:start])
            starts.extend(self.starts[cursor:start])
            ends.extend(self.ends[cursor:start])
            if replacement:
                span_start = self.starts[start] if start < end else self._point(start)
                span_end = self.ends[end - 1] if start < end else span_start
                text_parts.append(replacement)
                starts.extend([span_start] * len(replacement))
                ends.extend([span_end] * len(replacement))
            cursor = end
        text_parts.append(self.text[cursor:])
        starts.extend(self.starts[cursor:])
        ends.extend(self.ends[cursor:])
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


def fold_chars(original: str, folder: CharFolder) -> tuple[MappedText, int]:
    """Fold each character of the original; returns the mapped text and the union of step masks."""
    chars = set(original)
    all_flags = 0
    for ch in chars - folder.known:
        all_flags |= folder.fold(ch)[1]
    if chars <= folder.one_to_one:
        # The common case: str.translate does the work in C and the spans are the identity.
        size = len(original)
        identity = MappedText(original.translate(folder.table), range(size), range(1, size + 1))
        return identity, all_flags | folder.steps_in(chars)
    all_flags |= folder.steps_in(chars & folder.known)
    return _fold_each(original, folder), all_flags


def _fold_each(original: str, folder: CharFolder) -> MappedText:
    """Fold character by character when some characters vanish or expand."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, ch in enumerate(original):
        folded, _, combining = folder.fold(ch)
        if folded:
            pieces.append(folded)
            starts.extend([index] * len(folded))
            ends.extend([index + 1] * len(folded))
        elif combining and ends:
            # A combining mark belongs to the letter before it: widen that letter's span over it.
            last = starts[-1]
            position = len(ends) - 1
            while position >= 0 and starts[position] == last:
                ends[position] = index + 1
                position -= 1
    return MappedText("".join(pieces), starts, ends)
