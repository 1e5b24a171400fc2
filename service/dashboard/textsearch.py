"""Text search that ignores case and Vietnamese diacritics ('giet' finds 'giết', 'Đà' finds 'da')."""

from __future__ import annotations

import unicodedata

# đ/Đ are letters of their own, not d plus a mark, so NFD alone does not fold them.
EXTRA_FOLDS = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str) -> str:
    """Lower case, without combining marks, with đ as d."""
    decomposed = unicodedata.normalize("NFD", text.translate(EXTRA_FOLDS))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def matches(query: str, haystack: str) -> bool:
    """Every word of the query occurs in the haystack, both folded."""
    folded = fold(haystack)
    return all(word in folded for word in fold(query).split())
