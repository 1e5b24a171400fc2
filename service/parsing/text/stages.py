"""Word-level stages of the normalised view, each a list of edits on the folded text.

They run on text that charfold has already made lowercase ASCII-ish, so RE2's ASCII classes are
enough here. Each stage returns edits rather than a new string so that spans stay exact.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from typing import Final

import re2

from service.parsing.text.spans import Edit

STEP_SEPARATORS: Final = "separators"
STEP_WHITESPACE: Final = "whitespace"
STEP_LEETSPEAK: Final = "leetspeak"
STEP_TEENCODE: Final = "teencode"
STEP_SQUEEZE: Final = "squeeze"

_ALNUM: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_LETTERS: Final = frozenset("abcdefghijklmnopqrstuvwxyz")
_LEET: Final = {"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "$": "s"}
_CHAIN_CHARS: Final = _LETTERS | frozenset("0134")

# Single characters split by up to three separator characters: "g.i.e.t", "k h u n g", "b-o-m".
# Commas are left out: "a, b, c" is a list far more often than a disguise.
_SPLIT_CHAIN: Final = re2.compile(r"[a-z0-9](?:[ .\-_*/|~+·•]{1,3}[a-z0-9])+")
_WHITESPACE: Final = re2.compile(r"\s+")
_LEET_TOKEN: Final = re2.compile(r"[a-z0-9@$]*[0134@$][a-z0-9@$]*")
_WORD: Final = re2.compile(r"[a-z0-9]+")
# Runs of one repeated letter. "u" keeps two because the folded "ưu" of "cứu" is a real "uu".
_REPEATS: Final = re2.compile("|".join(f"{c}{{2,}}" for c in "abcdefghijklmnopqrstvwxyz") + "|u{3,}")

# Words glued after a number that mean an amount or a unit, so "4tr" and "1ty" keep their digits.
_UNITS: Final = frozenset(
    {"k", "tr", "trieu", "ty", "ti", "m", "h", "ph", "p", "g", "kg", "km", "cm", "mm", "ml", "gb", "mb"}
    | {"tb", "th", "st", "nd", "rd", "vnd", "usd", "d", "s", "x", "lan", "ngay", "thang", "nam", "gio"}
    | {"phut", "tuoi", "cai", "con", "nguoi"}
)


def separator_edits(text: str) -> list[Edit]:
    """Join single letters split by separators; a wider or different gap inside the chain stays a space."""
    edits: list[Edit] = []
    for match in _SPLIT_CHAIN.finditer(text):
        start, end = match.start(), match.end()
        if start > 0 and text[start - 1] in _ALNUM:
            start = _drop_first_element(text, start, end)
        if end < len(text) and text[end] in _ALNUM:
            end = _drop_last_element(text, start, end)
        edits.extend(_chain_edits(text, start, end))
    return edits


def _drop_first_element(text: str, start: int, end: int) -> int:
    """The first single character ends a longer word: start the chain at the next one."""
    start += 1
    while start < end and text[start] not in _ALNUM:
        start += 1
    return start


def _drop_last_element(text: str, start: int, end: int) -> int:
    """The last single character runs into a longer word: end the chain before its separator."""
    end -= 1
    while end > start and text[end - 1] not in _ALNUM:
        end -= 1
    return end


def _chain_edits(text: str, start: int, end: int) -> list[Edit]:
    """Edits for one candidate chain, or none when it does not look like a split word."""
    elements = [i for i in range(start, end) if text[i] in _ALNUM]
    letters = sum(1 for i in elements if text[i] in _LETTERS)
    digits = len(elements) - letters
    if len(elements) < 3 or letters <= digits or any(text[i] not in _CHAIN_CHARS for i in elements):
        return []
    separators = [(a + 1, b) for a, b in itertools.pairwise(elements)]
    usual = Counter(text[a:b] for a, b in separators).most_common(1)[0][0]
    if usual.strip() == "" and len(elements) < 4:
        return []  # "a o k": three lone letters and spaces are too often real words.
    return [(a, b, " " if text[a:b] != usual and " " in text[a:b] else "") for a, b in separators]


def whitespace_edits(text: str) -> list[Edit]:
    """Collapse each whitespace run to one space and drop it at both ends."""
    edits: list[Edit] = []
    for match in _WHITESPACE.finditer(text):
        start, end = match.start(), match.end()
        if start == 0 or end == len(text):
            edits.append((start, end, ""))
        elif end - start > 1 or text[start] != " ":
            edits.append((start, end, " "))
    return edits


def leet_edits(text: str) -> list[Edit]:
    """Undo leetspeak inside words that have letters; numbers, amounts and mentions keep their symbols."""
    edits: list[Edit] = []
    for match in _LEET_TOKEN.finditer(text):
        token = match.group(0)
        if sum(1 for c in token if c in _LETTERS) < 2:
            continue
        base = match.start()
        edits.extend((base + i, base + i + 1, _LEET[token[i]]) for i in _leet_positions(token))
    return edits


def _leet_positions(token: str) -> list[int]:
    """Positions of symbols that stand for letters: inside a word, or alone at its edge."""
    positions: list[int] = []
    index = 0
    while index < len(token):
        if token[index] in _LETTERS:
            index += 1
            continue
        run_end = index
        while run_end < len(token) and token[run_end] not in _LETTERS:
            run_end += 1
        if _run_is_leet(token, index, run_end):
            positions.extend(range(index, run_end))
        index = run_end
    return positions


def _run_is_leet(token: str, start: int, end: int) -> bool:
    """Whether a run of non-letters in a word stands for letters."""
    run = token[start:end]
    if any(c not in _LEET for c in run) or len(run) > 2:
        return False
    inside = start > 0 and end < len(token)
    if inside:
        return True
    if len(run) > 1 or "@" in run:
        return False  # "@admin" is a mention, "10ph" a duration.
    if start == 0:
        return token[end:] not in _UNITS
    return run == "$" or len(token) >= 3


def teencode_edits(text: str, table: Mapping[str, str]) -> list[Edit]:
    """Expand whole words found in the teencode table, also when their letters are stretched ("kooo")."""
    edits: list[Edit] = []
    previous_end = -2
    previous_numeric = False
    for match in _WORD.finditer(text):
        word = match.group(0)
        after_number = previous_numeric and match.start() - previous_end <= 1
        previous_end, previous_numeric = match.end(), word.isdigit()
        if after_number or not word.isalpha():
            continue  # "100 k" is an amount, not "không".
        expansion = table.get(word)
        if expansion is None:
            squeezed = squeeze_word(word)
            expansion = table.get(squeezed) if squeezed != word and len(squeezed) > 1 else None
        if expansion is not None and expansion != word:
            edits.append((match.start(), match.end(), expansion))
    return edits


def squeeze_edits(text: str) -> list[Edit]:
    """Squeeze runs of a repeated letter to one letter ("uuu" to "uu")."""
    return [(m.start(), m.end(), _squeezed_run(m.group(0))) for m in _REPEATS.finditer(text)]


def _squeezed_run(run: str) -> str:
    return "uu" if run[0] == "u" else run[0]


def squeeze_word(word: str) -> str:
    """The squeezed form of one word, as squeeze_edits would leave it."""
    return _REPEATS.sub(lambda m: _squeezed_run(m.group(0)), word) if len(word) > 1 else word
