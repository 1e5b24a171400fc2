"""Tone marks a rule author wrote are honoured when the message has tone marks too.

Folding makes "mày" (you), "máy" (machine), "mấy" (a few) and "may" (lucky) one word, so "giết mày" would
match "giết mấy con gà". Matching stays diacritic-insensitive for text typed without marks ("giet may"),
but where both the keyword word and the message word carry tone marks, the tones must be the same.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

WordMarks = tuple[str, ...]
Signature = tuple[WordMarks, ...]


# Vietnamese tone marks: grave, acute, tilde, hook above, dot below. Vowel-shape marks (circumflex, breve,
# horn) and đ are left out on purpose: dialect spellings such as "mầy" for "mày" keep the tone, and the
# tone is what tells "mày" (you) from "máy" (machine) and "mấy" (a few).
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")


@lru_cache(maxsize=65536)
def word_marks(word: str) -> WordMarks:
    """The tone marks of one word, order-free; an empty tuple when it has none."""
    decomposed = unicodedata.normalize("NFD", word.casefold())
    return tuple(sorted(c for c in decomposed if c in TONE_MARKS))


def signature(keyword: str) -> Signature | None:
    """Per-word marks of a keyword, or None when it has none (then any spelling matches)."""
    marks = tuple(word_marks(word) for word in keyword.split())
    return marks if any(marks) else None


@lru_cache(maxsize=65536)  # the same few words ("bạn", "mấy") recur in every message
def accents_agree(original: str, allowed: frozenset[Signature]) -> bool:
    """True if the original words fit one allowed signature (unmarked words fit anything)."""
    seen = tuple(word_marks(word) for word in original.split())
    if not any(seen):
        return True
    for expected in allowed:
        if len(expected) != len(seen):
            return True  # separators or teencode changed the words: no alignment, do not guess a miss
        if all(not want or not got or want == got for want, got in zip(expected, seen, strict=True)):
            return True
    return False
