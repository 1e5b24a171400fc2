"""One RE2 pass that tells which of the rarely needed stages a text needs at all.

Each RE2 call costs microseconds, and most texts have no split letters, no leetspeak and no stretched
letters. An RE2::Set reports in one pass which of those stages' candidate patterns occur anywhere, so
a plain text pays one call instead of one per stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import re2

# The default 8 MiB lets a Set's DFA run out of memory and fail; a few patterns need far less than this.
_MAX_MEM: Final = 32 << 20


class StageTriggers:
    """Candidate patterns by name (a stage's, or an entity kind's), matched together on ASCII bytes."""

    __slots__ = ("_names", "_set")

    def __init__(self, patterns: Mapping[str, str]) -> None:
        options = re2.Options()
        options.max_mem = _MAX_MEM
        self._set = re2.Set.SearchSet(options)
        self._names = tuple(patterns)
        for pattern in patterns.values():
            self._set.Add(pattern.encode("utf-8"))
        self._set.Compile()

    def present(self, data: bytes) -> frozenset[str]:
        """The names of the stages whose candidate pattern occurs in `data`."""
        found = self._set.Match(data)
        return frozenset(self._names[index] for index in found) if found else frozenset()
