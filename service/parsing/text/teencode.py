"""Load the teencode table (rules/lists/teencode.tsv): one `short<TAB>expansion` per line, `#` comments.

Keys and expansions are folded like the text they apply to (so "đc" and "dc" are one key), and a
broken line fails the load with `path:line`, never silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import re2

from service.parsing.text.charfold import CharFolder

_KEY: Final = re2.compile(r"[a-z]{1,12}")
_EXPANSION: Final = re2.compile(r"[a-z]+(?: [a-z]+){0,5}")
_MAX_BYTES: Final = 1 << 20


class TeencodeTableError(ValueError):
    """The teencode table is malformed; the message carries `path:line`."""


def load_teencode(path: Path) -> dict[str, str]:
    """Read and validate a teencode table."""
    if path.stat().st_size > _MAX_BYTES:
        raise TeencodeTableError(f"{path}: larger than {_MAX_BYTES} bytes")
    folder = CharFolder()
    table: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        fields = content.split("\t")
        fields = [field.strip() for field in fields if field.strip()]
        if len(fields) != 2:
            raise TeencodeTableError(f"{path}:{number}: expected `short<TAB>expansion`")
        key, expansion = (_fold(field, folder) for field in fields)
        if not _KEY.fullmatch(key) or not _EXPANSION.fullmatch(expansion):
            raise TeencodeTableError(f"{path}:{number}: key or expansion is not plain letters: {content!r}")
        if key in table:
            raise TeencodeTableError(f"{path}:{number}: duplicate key {key!r}")
        table[key] = expansion
    return table


def _fold(text: str, folder: CharFolder) -> str:
    return "".join(folder.fold(ch)[0] for ch in text)
