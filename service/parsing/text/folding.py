"""Fold a whole text character by character (see charfold) with spans back to the original, fast.

Three paths, cheapest first; each gives exactly what folding every character on its own gives:
- whole: plain and Vietnamese text, where every character folds to one ASCII character. Canonical
  decomposition leaves each letter's ASCII base followed by marks, and encoding to ASCII drops the
  marks, all in C. No code point decomposes to two ASCII characters (checked over all of Unicode), so
  an unchanged length proves each character gave exactly one, in order: the spans are the identity.
- sparse: a few other characters. Those that fold to one character (emoji, look-alikes, odd spaces)
  stand in as control characters absent from the text while the rest folds whole; those that vanish
  (zero-width characters, combining marks of decomposed input) are cut out and the spans skip them,
  a mark widening the letter before it.
- each: characters that expand ("ß", ligatures), one at a time in Python.
"""

from __future__ import annotations

import itertools
import unicodedata
from typing import Final

from service.parsing.text.charfold import (
    STEP_CASEFOLD,
    STEP_DIACRITICS,
    STEP_WHITESPACE,
    CharFolder,
    step_bit,
)
from service.parsing.text.latin_bases import vietnamese_bases
from service.parsing.text.spans import MappedText

# ASCII whitespace other than the space (str.isspace() counts the separators \x1c-\x1f too).
_ASCII_SPACES: Final = bytes.maketrans(b"\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f", b" " * 9)
# The only code points whose decomposition gives one ASCII character but whose fold is not "that
# letter, lowercase, from its diacritics" (checked over all of Unicode): the sparse path takes them.
_ODD_SINGLES: Final = ("\u037e", "\u1fef", "\u212a", "\u212b")
# Control characters that folding leaves alone, to stand in for other characters.
_PLACEHOLDERS: Final = tuple(chr(c) for c in [*range(0x00, 0x09), *range(0x0E, 0x1C), 0x7F])
_CASEFOLD: Final = step_bit(STEP_CASEFOLD)
_DIACRITICS: Final = step_bit(STEP_DIACRITICS)
_WHITESPACE: Final = step_bit(STEP_WHITESPACE)


def _folds_whole(ch: str) -> bool:
    text = ch.replace("đ", "d").replace("Đ", "D")
    return ch not in _ODD_SINGLES and len(unicodedata.normalize("NFD", text).encode("ascii", "ignore")) == 1


# Latin letters with diacritics that fold whole (Vietnamese's among them); on their own they mark a
# word as written with diacritics (squeeze reads them).
MARKED_LATIN: Final = frozenset(
    ch for ch in map(chr, [*range(0x80, 0x250), *range(0x1E00, 0x1F00)]) if _folds_whole(ch)
)
_WHOLE_SAFE: Final = frozenset(chr(c) for c in range(0x80)) | MARKED_LATIN


def fold_chars(original: str, folder: CharFolder) -> tuple[MappedText, int]:
    """Fold each character of the original; returns the mapped text and the union of step masks."""
    whole = _fold_whole(original)
    if whole is not None:
        size = len(original)
        return MappedText(whole[0], range(size), range(1, size + 1)), whole[1]
    sparse = _fold_sparse(original, folder)
    if sparse is not None:
        return sparse
    flags = 0
    for ch in set(original):
        flags |= folder.fold(ch)[1]
    return _fold_each(original, folder), flags


def fold_path(original: str, folder: CharFolder) -> str:
    """Which path folds a text: "whole", "sparse" or "each" (for benchmarks and tests)."""
    if _fold_whole(original) is not None:
        return "whole"
    return "sparse" if _fold_sparse(original, folder) is not None else "each"


def _fold_whole(original: str) -> tuple[str, int] | None:
    """The folded text and step mask when every character folds to exactly one ASCII character."""
    if original.isascii():
        bases: bytes | None = original.encode("ascii")
        flags = 0
    else:
        # Vietnamese through a codec table; other text decomposes. Either way each character gave one base.
        bases = vietnamese_bases(original)
        if bases is None:
            bases = _decomposed_bases(original)
        flags = _DIACRITICS
    if bases is None:
        return None
    # bytes methods: lower() and translate() on bytes are several times cheaper than on str.
    lowered = bases.lower()
    folded = lowered.translate(_ASCII_SPACES)
    flags |= (_CASEFOLD if lowered != bases else 0) | (_WHITESPACE if folded != lowered else 0)
    return folded.decode("ascii"), flags


def _decomposed_bases(original: str) -> bytes | None:
    """The ASCII bases by canonical decomposition, or None unless each character gives exactly one."""
    if "\u037e" in original or "\u1fef" in original or "\u212a" in original or "\u212b" in original:
        return None  # the _ODD_SINGLES, spelt out: cheaper than a generator on every text
    text = original.replace("đ", "d").replace("Đ", "D")
    bases = unicodedata.normalize("NFD", text).encode("ascii", "ignore")
    return bases if len(bases) == len(original) else None


def _fold_sparse(original: str, folder: CharFolder) -> tuple[MappedText, int] | None:
    """Fold in C around characters that fold to one character or vanish; None if one expands."""
    folds = {ch: folder.fold(ch) for ch in set(original) - _WHOLE_SAFE}
    if any(len(folded) > 1 for folded, _, _ in folds.values()):
        return None
    singles = [ch for ch, (folded, _, _) in folds.items() if folded]
    placeholders = [ph for ph in _PLACEHOLDERS if ph not in original][: len(singles)]
    if len(placeholders) < len(singles):
        return None
    text = original
    for ch, placeholder in zip(singles, placeholders, strict=False):
        text = text.replace(ch, placeholder)
    vanishing = [ch for ch, (folded, _, _) in folds.items() if not folded]
    removed = _positions(original, vanishing)
    for ch in vanishing:
        text = text.replace(ch, "")
    whole = _fold_whole(text)
    if whole is None:  # cannot happen: every character left folds whole
        return None
    folded, flags = whole
    for ch, placeholder in zip(singles, placeholders, strict=True):
        folded = folded.replace(placeholder, folds[ch][0])
    for _, char_flags, _ in folds.values():
        flags |= char_flags
    return _skipping(folded, original, removed, folder), flags


def _positions(text: str, chars: list[str]) -> list[int]:
    """Sorted positions of every occurrence of some characters (str.find runs in C)."""
    found: list[int] = []
    for ch in chars:
        index = text.find(ch)
        while index >= 0:
            found.append(index)
            index = text.find(ch, index + 1)
    found.sort()
    return found


def _skipping(folded: str, original: str, removed: list[int], folder: CharFolder) -> MappedText:
    """Spans of a fold that dropped the characters at `removed`; a combining mark widens the letter before."""
    size = len(original)
    if not removed:
        return MappedText(folded, range(size), range(1, size + 1))
    bounds = [-1, *removed, size]
    kept = [range(a + 1, b) for a, b in itertools.pairwise(bounds) if b > a + 1]
    starts = list(itertools.chain.from_iterable(kept))
    ends = list(itertools.chain.from_iterable(range(r.start + 1, r.stop + 1) for r in kept))
    for count, position in enumerate(removed):
        last = position - count - 1  # the output character before this position
        if last >= 0 and folder.fold(original[position])[2]:
            ends[last] = position + 1
    return MappedText(folded, starts, ends)


def _fold_each(original: str, folder: CharFolder) -> MappedText:
    """Fold character by character when some characters expand."""
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
