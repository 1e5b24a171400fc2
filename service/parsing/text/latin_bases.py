"""The ASCII base letters of a Vietnamese text ("Tránh" → b"Tranh"), in one C call.

Canonical decomposition followed by an ASCII encoding that drops the marks gives the same bytes, but
decomposing costs ~9 µs per KB of Vietnamese; a charmap codec maps each character through a lookup
table for a fifth of that. A charmap table holds at most 256 characters: ASCII (less six rarely typed
control characters) and the 134 Vietnamese letters with diacritics fill it. A text with any other
character gets None, and the caller decomposes as before.
"""

from __future__ import annotations

import codecs
import unicodedata
from typing import Final

_BASE_VOWELS: Final = "aăâeêioôơuưy"
_TONE_MARKS: Final = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # none, ` ´ hook ~ dot below
_DROPPED_CONTROLS: Final = frozenset(map(chr, range(0x1A, 0x20)))  # SUB, ESC and the four separators


def _vietnamese_letters() -> list[str]:
    """Every precomposed Vietnamese letter that is not ASCII, lower and upper case."""
    lower = {unicodedata.normalize("NFC", vowel + tone) for vowel in _BASE_VOWELS for tone in _TONE_MARKS}
    lower = {letter for letter in lower | {"đ"} if not letter.isascii()}
    return sorted(lower | {letter.upper() for letter in lower})


def _base(letter: str) -> int:
    """The one ASCII letter that decomposing `letter` and dropping its marks leaves (đ is d)."""
    decomposed = unicodedata.normalize("NFD", letter.replace("đ", "d").replace("Đ", "D"))
    base = decomposed.encode("ascii", "ignore")
    assert len(base) == 1, letter
    return base[0]


_LETTERS: Final = _vietnamese_letters()
_ASCII: Final = [chr(code) for code in range(0x80) if chr(code) not in _DROPPED_CONTROLS]
# The codec turns the i-th character of the table into byte i; a byte table then turns byte i into that
# character's ASCII base (itself for ASCII).
_CODEC_TABLE: Final = "".join(_ASCII + _LETTERS)
# What charmap_build needs to build its fast map rather than a dict: 256 characters, NUL first.
assert len(_CODEC_TABLE) == 256
assert _CODEC_TABLE[0] == "\x00"
_ENCODING_MAP: Final = codecs.charmap_build(_CODEC_TABLE)
_TO_BASES: Final = bytes(ord(char) if char.isascii() else _base(char) for char in _CODEC_TABLE)


# The last text and its bases. An analysis folds its message twice, for the rules (text/folding.py) and for
# the template sketch, and passes the same str object both times: the second call is an identity check
# instead of a codec pass (~30,000 instructions for a 900-character SMS, 2.4% of its analysis, measured with
# callgrind). One tuple, replaced whole: a thread sees either the old pair or the new one.
_last: tuple[str, bytes | None] = ("", b"")


def vietnamese_bases(text: str) -> bytes | None:
    """NFD(text).encode("ascii", "ignore") with đ → d, or None when `text` has a character outside
    ASCII and the Vietnamese letters (then each character need not give exactly one base)."""
    global _last  # noqa: PLW0603 - a one-entry memo of an immutable result
    last_text, last_bases = _last
    if text is last_text:
        return last_bases
    encoded, _ = codecs.charmap_encode(text, "ignore", _ENCODING_MAP)
    # Some character not in the table (the codec dropped it): None.
    bases = encoded.translate(_TO_BASES) if len(encoded) == len(text) else None
    _last = (text, bases)
    return bases
