"""Teencode: the table (rules/lists/teencode.tsv) and the stage that expands its words in a text.

The table has one `short<TAB>expansion` per line and `#` comments. Keys and expansions are folded
like the text they apply to (so "đc" and "dc" are one key), and a broken line fails the load with
`path:line`, never silently.

A word is expanded only where it is chat: never after a number ("100 k"), in a smiley (":v"), inside
a domain, URL or address ("khoa-tk.top", "abc.cc", "bob@x.cc"), or in an English contraction ("I'm",
"don't", "it's": the "m" of "I'm" is not "mày").
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

import re2

from service.parsing.data.entity_tables import TLDS
from service.parsing.text.charfold import CharFolder
from service.parsing.text.fastre import FastPattern
from service.parsing.text.spans import Edit
from service.parsing.text.squeeze import RUNS, squeeze_word

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


STEP_TEENCODE: Final = "teencode"
_MAX_EDITS: Final = 10_000
_SPLIT_MAX: Final = 400  # bytes; past this one RE2 search beats splitting the whole text
# bytes.translate table: letters and digits stay, every other byte (the "?" of non-ASCII too) is a space.
_WORD_MASK: Final = bytes(code if chr(code).isascii() and chr(code).isalnum() else 32 for code in range(256))
_DIGIT_BYTES: Final = frozenset(b"0123456789")
_SMILEY_EYES: Final = frozenset(b":;=")
_JOINERS: Final = frozenset(b"-/_@=&%#~")  # in names, domains, URLs and addresses
_DOT: Final = ord(".")
_TLD_WORDS: Final = frozenset(tld.encode() for tld in TLDS.split("|"))
_SPACE: Final = 32
# Apostrophes as typed and as phones and word processors "smarten" them (NFKC keeps them apart).
_APOSTROPHES: Final = frozenset("'\u2019\u2018\u02bc\u0060\u00b4\u2032")


class TeencodeStage:
    """Expands the words of one table; build once (it compiles the table's words into one RE2)."""

    __slots__ = ("_pattern", "_table")

    def __init__(self, table: Mapping[str, str]) -> None:
        # Keys are plain letters (checked when loaded), so they need no escaping and encode as ASCII.
        self._table = {key.encode("ascii"): value for key, value in table.items() if key.isascii()}
        words = "|".join(sorted((key.decode("ascii") for key in self._table), key=len, reverse=True))
        # One search finds every table word standing alone: far cheaper than splitting the text.
        self._pattern = FastPattern(f"(?:^|[^a-z0-9])({words})(?:$|[^a-z0-9])") if words else None

    @property
    def pattern(self) -> str | None:
        """The RE2 pattern (on the view as ASCII bytes) that finds a table word standing alone."""
        return self._pattern.pattern if self._pattern is not None else None

    def edits(self, text: str, data: bytes, stretched: bool) -> list[Edit]:
        """Expand whole words found in the table, also when their letters are stretched ("kooo").

        `data` is `text` as ASCII bytes (one byte per character); `stretched` says whether the text
        has runs of three letters at all.
        """
        if self._pattern is None:
            return []
        masked = data.translate(_WORD_MASK)
        if len(data) <= _SPLIT_MAX:
            # Short texts: splitting into words costs less than one RE2 call per word found.
            found = {word: self._table[word] for word in self._table.keys() & set(masked.split())}
        else:
            spans = _table_words(self._pattern, data)
            if len(spans) < _MAX_EDITS and not stretched:
                # The search found every table word standing alone: no need to look for them again.
                return self._span_edits(text, data, masked, spans)
            found = {data[start:end]: "" for start, end in spans}
            found = {word: self._table[word] for word in found}
        if stretched:
            found.update(_stretched_expansions(masked, data, self._table))
        edits: list[Edit] = []
        for word, expansion in found.items():
            edits.extend(
                (start, start + len(word), expansion)
                for start in _whole_word_starts(masked, word)
                if not _not_chat(text, data, masked, start, start + len(word))
            )
            if len(edits) >= _MAX_EDITS:
                break
        edits.sort()
        return edits[:_MAX_EDITS]

    def _span_edits(self, text: str, data: bytes, masked: bytes, spans: list[tuple[int, int]]) -> list[Edit]:
        """Edits for table words found at `spans` (left to right, so already sorted)."""
        return [
            (start, end, self._table[data[start:end]])
            for start, end in spans
            if not _not_chat(text, data, masked, start, end)
        ]


def _table_words(pattern: FastPattern, data: bytes) -> list[tuple[int, int]]:
    """Spans of table words that stand alone, left to right."""
    found: list[tuple[int, int]] = []
    position = 0
    while len(found) < _MAX_EDITS:
        spans = pattern.search(data, position)
        if spans is None:
            break
        found.append(spans[1])
        position = spans[1][1]  # the boundary after a word can open the next ("k k")
    return found


def _stretched_expansions(masked: bytes, data: bytes, table: Mapping[bytes, str]) -> dict[bytes, str]:
    """Words such as "kooo" whose squeezed form is in the table (found from the runs, which are rare)."""
    found: dict[bytes, str] = {}
    for spans in RUNS.find_all(data, _MAX_EDITS):
        start, end = spans[0]
        begin = masked.rfind(b" ", 0, start) + 1
        stop = masked.find(b" ", end)
        word = masked[begin : stop if stop >= 0 else len(masked)]
        if word in table or not word.isalpha():
            continue
        squeezed = squeeze_word(word.decode("ascii")).encode("ascii")
        if len(squeezed) > 1 and squeezed in table:
            found[word] = table[squeezed]
    return found


def _whole_word_starts(masked: bytes, word: bytes) -> list[int]:
    """Where `word` stands alone in the masked text (bytes.find runs in C; few words are teencode)."""
    starts: list[int] = []
    size = len(word)
    index = masked.find(word)
    while index >= 0 and len(starts) < _MAX_EDITS:
        end = index + size
        if (index == 0 or masked[index - 1] == _SPACE) and (end == len(masked) or masked[end] == _SPACE):
            starts.append(index)
        index = masked.find(word, end)
    return starts


def _not_chat(text: str, data: bytes, masked: bytes, start: int, end: int) -> bool:
    """After a number or in a smiley, a contraction or a compound such as a domain: not teencode."""
    after_number = start >= 2 and masked[start - 2] in _DIGIT_BYTES
    if after_number or (start >= 1 and data[start - 1] in _SMILEY_EYES):
        return True  # "100 k" and "5 m" are amounts; ":v" is a smiley
    letter_before = start >= 2 and masked[start - 2] != _SPACE
    letter_after = end + 1 < len(data) and masked[end + 1] != _SPACE
    if (letter_before and text[start - 1] in _APOSTROPHES) or (letter_after and text[end] in _APOSTROPHES):
        return True  # "i'm", "don't", "we'll"
    if letter_before:
        before = data[start - 1]
        if before in _JOINERS or (before == _DOT and masked[start:end] in _TLD_WORDS):
            return True  # "khoa-tk", "abc.tk"
    if letter_after:
        after = data[end]
        # "tk.top" sits in a domain; "ko.tao" is a sentence missing its space.
        return after in _JOINERS or (after == _DOT and _word_at(masked, end + 1) in _TLD_WORDS)
    return False


def _word_at(masked: bytes, start: int) -> bytes:
    end = masked.find(b" ", start)
    return masked[start : end if end >= 0 else len(masked)]
