"""A text together with, for each of its characters, the span of the original text it came from."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from service.parsing.text.charfold import (
    STEP_CASEFOLD,
    STEP_DIACRITICS,
    STEP_WHITESPACE,
    CharFolder,
    step_bit,
)

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


def fold_chars(original: str, folder: CharFolder) -> tuple[MappedText, int]:
    """Fold each character of the original; returns the mapped text and the union of step masks."""
    fast = _fold_whole(original) or _fold_with_placeholders(original, folder)
    if fast is not None:
        size = len(original)
        return MappedText(fast[0], range(size), range(1, size + 1)), fast[1]
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


# ASCII whitespace other than the space (str.isspace() counts the separators \x1c-\x1f too).
_ASCII_SPACES: Final = bytes.maketrans(b"\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f", b" " * 9)
# The only code points whose decomposition gives one ASCII character but whose fold is not "that
# letter, lowercase, from its diacritics" (checked over all of Unicode): they take the per-character path.
_ODD_SINGLES: Final = ("\u037e", "\u1fef", "\u212a", "\u212b")
# Control characters that folding leaves alone, to stand in for other characters (see below).
_PLACEHOLDERS: Final = tuple(chr(c) for c in [*range(0x00, 0x09), *range(0x0E, 0x1C), 0x7F])


def _folds_whole(ch: str) -> bool:
    text = ch.replace("đ", "d").replace("Đ", "D")
    return ch not in _ODD_SINGLES and len(unicodedata.normalize("NFD", text).encode("ascii", "ignore")) == 1


# Characters that _fold_whole folds: ASCII and the Latin letters with diacritics (Vietnamese's among them).
# The latter, on their own, mark a word as written with diacritics (squeeze reads them).
MARKED_LATIN: Final = frozenset(
    ch for ch in map(chr, [*range(0x80, 0x250), *range(0x1E00, 0x1F00)]) if _folds_whole(ch)
)
_WHOLE_SAFE: Final = frozenset(chr(c) for c in range(0x80)) | MARKED_LATIN
_CASEFOLD: Final = step_bit(STEP_CASEFOLD)
_DIACRITICS: Final = step_bit(STEP_DIACRITICS)
_WHITESPACE: Final = step_bit(STEP_WHITESPACE)


def _fold_with_placeholders(original: str, folder: CharFolder) -> tuple[str, int] | None:
    """Fold in C when the only other characters (emoji, look-alikes, odd spaces) fold one to one.

    Each such character stands in for a control character absent from the text while the rest folds
    whole; then the placeholder becomes its fold. Characters that vanish or expand give None.
    """
    odd = set(original) - _WHOLE_SAFE
    folds = [folder.fold(ch) for ch in odd]
    if any(len(folded) != 1 for folded, _, _ in folds):
        return None
    placeholders = [ph for ph in _PLACEHOLDERS if ph not in original][: len(odd)]
    if len(placeholders) < len(odd):
        return None
    text = original
    for ch, placeholder in zip(odd, placeholders, strict=False):
        text = text.replace(ch, placeholder)
    whole = _fold_whole(text)
    if whole is None:  # cannot happen: every character left is safe
        return None
    folded, flags = whole
    for (fold, char_flags, _), placeholder in zip(folds, placeholders, strict=True):
        folded = folded.replace(placeholder, fold)
        flags |= char_flags
    return folded, flags


def _fold_whole(original: str) -> tuple[str, int] | None:
    """Fold a whole text in C when every character folds to exactly one ASCII character, else None.

    Plain and Vietnamese text (the common case): canonical decomposition leaves each letter's ASCII
    base followed by marks, and encoding to ASCII drops the marks. No code point decomposes to two
    ASCII characters, so an unchanged length proves that each character gave exactly one, in order,
    and the spans stay the identity. Anything else (emoji, zero-width, look-alikes, decomposed input)
    changes the length and takes the per-character path.
    """
    if original.isascii():
        bases = original.encode("ascii")
        flags = 0
    else:
        if any(ch in original for ch in _ODD_SINGLES):
            return None
        text = original.replace("đ", "d").replace("Đ", "D")
        bases = unicodedata.normalize("NFD", text).encode("ascii", "ignore")
        if len(bases) != len(original):
            return None
        flags = _DIACRITICS
    # bytes methods: lower() and translate() on bytes are several times cheaper than on str.
    lowered = bases.lower()
    folded = lowered.translate(_ASCII_SPACES)
    flags |= (_CASEFOLD if lowered != bases else 0) | (_WHITESPACE if folded != lowered else 0)
    return folded.decode("ascii"), flags
