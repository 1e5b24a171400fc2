"""Named lists under `rules/lists/`, read only when a rule refers to them (`in_list: banks`).

Lists are plain text: one entry per line, `#` starts a comment. Other tools own some files in that folder with
their own formats, so a list is never read unless a rule names it.
"""

from __future__ import annotations

from pathlib import Path

import re2

MAX_LIST_BYTES = 8 * 1024 * 1024
_LIST_NAME = re2.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")


class ListStore:
    """Loads and caches the lists a ruleset refers to."""

    def __init__(self, lists_dir: Path) -> None:
        self.lists_dir = lists_dir
        self._cache: dict[str, tuple[str, ...]] = {}

    def _path_of(self, name: str) -> Path | None:
        if _LIST_NAME.match(name) is None or ".." in name:
            return None
        for candidate in (self.lists_dir / name, self.lists_dir / f"{name}.txt"):
            if candidate.is_file():
                return candidate
        return None

    def get(self, name: str) -> tuple[str, ...] | str:
        """The entries of list `name`, or a message saying why it cannot be used."""
        if name in self._cache:
            return self._cache[name]
        path = self._path_of(name)
        if path is None:
            return f"no list {name!r} under {self.lists_dir.name}/ (looked for {name} and {name}.txt)"
        try:
            raw = path.read_bytes()
        except OSError as exc:
            return f"cannot read list {name!r}: {exc.strerror}"
        if len(raw) > MAX_LIST_BYTES:
            return f"list {name!r} is larger than {MAX_LIST_BYTES} bytes"
        entries = tuple(
            entry
            for line in raw.decode("utf-8", errors="replace").splitlines()
            if (entry := line.split("#", 1)[0].strip())
        )
        if not entries:
            return f"list {name!r} is empty"
        self._cache[name] = entries
        return entries

    def files(self) -> dict[str, Path]:
        """The list files actually used, by name."""
        return {name: path for name in self._cache if (path := self._path_of(name)) is not None}
