"""The normalised view of a text field, from service.parsing.normalize, with a minimal fallback.

The parsing helper's `normalize` does the real work (confusables, leetspeak, split letters, teencode).
Until it is importable this module folds case and Vietnamese diacritics itself, so the engine and its
tests run either way.
Keywords are normalised by the same function as the text, so both sides always agree.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Protocol


class NormalizedView(Protocol):
    """What the engine needs of a normalised text."""

    @property
    def text(self) -> str: ...

    def original_span(self, start: int, end: int) -> tuple[int, int]: ...


_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
_FOLD = {"đ": "d", "Đ": "d", "ð": "d"}


@dataclass(frozen=True, slots=True)
class _FoldedText:
    text: str
    origin: tuple[int, ...]  # origin[i] is the index in the original of normalised char i; one extra at end
    original_length: int

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if start >= end:
            return (self.origin[start], self.origin[start])
        return (self.origin[start], self.origin[end - 1] + 1)


def _fold(text: str) -> _FoldedText:
    """Casefold and strip diacritics, character by character, keeping the offsets."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in _ZERO_WIDTH:
            continue
        mapped = _FOLD.get(char)
        if mapped is None:
            decomposed = unicodedata.normalize("NFKD", char)
            mapped = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        for piece in mapped:
            out.append(piece)
            origin.append(index)
    origin.append(len(text))
    return _FoldedText("".join(out), tuple(origin), len(text))


def _load_normalizer() -> object:
    try:
        from service.parsing.normalize import normalize as parsing_normalize
    except ImportError:
        return _fold
    return parsing_normalize


_normalize = _load_normalizer()


def normalize_text(text: str) -> NormalizedView:
    """The normalised view of `text` (the parsing helper's normalize when present)."""
    view: NormalizedView = _normalize(text)  # type: ignore[operator]
    return view


def normalize_phrase(phrase: str) -> str:
    """A rule's keyword in the same normalised form as the text it is matched against."""
    return " ".join(normalize_text(phrase).text.split())
