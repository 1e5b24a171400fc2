"""Per-character folding: NFKC, case folding, Vietnamese diacritics, zero-width removal, confusables.

Each code point folds on its own, so the result of a character is cached and the mapping back to the
original stays one output run per input character. Folding per character rather than per string is
what lets NFD input (a base letter followed by combining marks) fold to the same view as NFC input:
the marks fold to nothing and the span of the base letter is widened over them. text/folding.py
gives the same result for whole texts, mostly in C.
"""

from __future__ import annotations

import unicodedata
from typing import Final

STEP_NFKC: Final = "nfkc"
STEP_CASEFOLD: Final = "casefold"
STEP_DIACRITICS: Final = "diacritics"
STEP_ZERO_WIDTH: Final = "zero_width"
STEP_CONFUSABLES: Final = "confusables"
STEP_WHITESPACE: Final = "whitespace"

CHAR_STEPS: Final = (
    STEP_NFKC,
    STEP_CASEFOLD,
    STEP_DIACRITICS,
    STEP_ZERO_WIDTH,
    STEP_CONFUSABLES,
    STEP_WHITESPACE,
)
_BIT = {name: 1 << index for index, name in enumerate(CHAR_STEPS)}

# Invisible format characters used to split a word without changing how it looks. Variation
# selectors are included: they are invisible and carry no letter.
_ZERO_WIDTH: Final = frozenset(
    [chr(c) for c in (0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF)]
    + [chr(c) for c in range(0x200B, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2060, 0x2070)]
    + [chr(c) for c in range(0xFE00, 0xFE10)]
    + [chr(c) for c in range(0xE0100, 0xE01F0)]
)

# Letters that NFKD does not decompose to an ASCII base but that readers take for one.
_LETTER_FOLDS: Final = {"đ": "d", "ð": "d", "ɖ": "d", "ø": "o", "ł": "l", "ı": "i", "ȷ": "j", "ħ": "h"}

# Look-alikes from other scripts (after case folding), from Unicode's confusables.txt, restricted to
# those that render like a Latin letter in common fonts.
_CONFUSABLES: Final = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d",
    "ӏ": "l", "ԛ": "q", "ԝ": "w", "һ": "h", "ь": "b", "ɡ": "g", "ո": "n", "ս": "u", "ց": "g",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ϲ": "c", "ϳ": "j", "ζ": "z", "μ": "u",
    # Latin small capitals and other look-alikes
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j",
    "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s", "ᴛ": "t",
    "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z", "ɑ": "a", "ɩ": "i", "ɒ": "a",
}  # fmt: skip

_COMBINING_CATEGORIES: Final = frozenset({"Mn", "Me", "Mc"})
_MAX_CACHE: Final = 1 << 16


def fold_char(ch: str) -> tuple[str, int]:
    """Fold one code point; returns the folded string and a bit mask of the steps that changed it."""
    if ch in _ZERO_WIDTH:
        return "", _BIT[STEP_ZERO_WIDTH]
    if ch.isspace() and ch != " ":
        # Tabs, newlines, line separators, no-break spaces: all one space for matching.
        return " ", _BIT[STEP_WHITESPACE]
    flags = 0
    text = unicodedata.normalize("NFKC", ch)
    if text != ch:
        flags |= _BIT[STEP_NFKC]
    # Cherokee small letters casefold to capitals; lower() after casefold makes the view lowercase.
    folded = text.casefold().lower()
    if folded != text:
        flags |= _BIT[STEP_CASEFOLD]
    bare = _strip_marks(folded)
    if bare != folded:
        flags |= _BIT[STEP_DIACRITICS]
    mapped = "".join(_CONFUSABLES.get(c, c) for c in bare)
    if mapped != bare:
        flags |= _BIT[STEP_CONFUSABLES]
    return mapped, flags


def _strip_marks(text: str) -> str:
    """Drop combining marks after compatibility decomposition, and fold đ and its kin."""
    if text.isascii():
        return text
    parts = []
    for c in unicodedata.normalize("NFKD", text):
        if unicodedata.category(c) in _COMBINING_CATEGORIES:
            continue
        parts.append(_LETTER_FOLDS.get(c, c))
    return "".join(parts)


def is_combining(ch: str) -> bool:
    """Whether a code point is a combining mark, which belongs to the letter before it."""
    return unicodedata.category(ch) in _COMBINING_CATEGORIES


def step_bit(name: str) -> int:
    """The bit of one step in a step mask."""
    return _BIT[name]


def step_names(flags: int) -> list[str]:
    """The names of the steps whose bits are set in a mask."""
    names = _NAMES_BY_MASK.get(flags)
    if names is None:
        names = _NAMES_BY_MASK[flags] = tuple(name for name in CHAR_STEPS if flags & _BIT[name])
    return list(names)


_NAMES_BY_MASK: dict[int, tuple[str, ...]] = {}  # at most 2**6 masks


class CharFolder:
    """Caches fold_char per code point; the cache is bounded so odd inputs cannot grow it forever."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[str, tuple[str, int, bool]] = {}

    def fold(self, ch: str) -> tuple[str, int, bool]:
        """Folded text, step mask and whether the character is a combining mark."""
        hit = self._cache.get(ch)
        if hit is not None:
            return hit
        folded, flags = fold_char(ch)
        entry = (folded, flags, folded == "" and is_combining(ch))
        if len(self._cache) < _MAX_CACHE:
            self._cache[ch] = entry
        return entry
