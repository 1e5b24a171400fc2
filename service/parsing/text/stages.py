"""Word-level stages of the normalised view (separators, whitespace, leetspeak), each a list of edits.

Teencode and squeeze have their own modules.

They run on text that charfold has already made lowercase ASCII-ish, so RE2's ASCII classes are
enough here. Each stage returns edits rather than a new string so that spans stay exact.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Final

from service.parsing.text.fastre import FastPattern
from service.parsing.text.spans import Edit

STEP_SEPARATORS: Final = "separators"
STEP_WHITESPACE: Final = "whitespace"  # also set by charfold for tabs and newlines
STEP_LEETSPEAK: Final = "leetspeak"

_ALNUM: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_LETTERS: Final = frozenset("abcdefghijklmnopqrstuvwxyz")
_LEET: Final = {"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "$": "s"}
_OTHER_DIGITS: Final = frozenset("256789")
_LEADING_LEET: Final = frozenset("034")
_LEET_WORD: Final = _ALNUM | frozenset("@$")
_CHAIN_CHARS: Final = _LETTERS | frozenset("0134")

# Single characters split by up to three separator characters: "g.i.e.t", "k h u n g", "b-o-m".
# Commas are left out: "a, b, c" is a list far more often than a disguise. "?" stands for any
# character outside ASCII in the bytes RE2 sees, so emoji between letters ("g🔪i🔪e🔪t") count too.
# The chain must stand alone: no letter or digit right before its first or after its last character.
# Matching the context (RE2 has no lookaround) keeps candidates rare: each re2 match costs microseconds.
# Group 2: two letters and one dot ("Đ.M", "x.ử"), the shortest split that is common in abuse.
SPLIT_CHAIN: Final = FastPattern(
    r"(?:^|[^a-z0-9])([a-z0-9](?:[ .\-_*/|~+?]{1,3}[a-z0-9]){2,})(?:$|[^a-z0-9])"
    r"|(?:^|[^a-z0-9.])([a-z]\.[a-z])(?:$|[^a-z0-9.@])"
)
# Bounds the work of one stage on hostile text (each match costs microseconds); past it, the rest of
# the text keeps that stage undone rather than taking more than a fraction of a second.
_MAX_EDITS: Final = 10_000
# Only shapes _run_is_leet can accept: inside a word, a leading 0/3/4 before two letters, a trailing $.
LEET_CANDIDATE: Final = FastPattern(
    r"[a-z][0134@$]{1,2}[a-z]|(?:^|[^a-z0-9@$])[034][a-z][a-z]|[a-z][a-z][$0](?:$|[^a-z0-9@$])"
)

# Words glued after a number that mean an amount or a unit, so "4tr" and "1ty" keep their digits.
# Times, sizes and versions too: "3pm", "4am", "3kg", "4gb", "3rd", "3yo" keep their digit.
_UNITS: Final = frozenset(
    {"k", "tr", "trieu", "ty", "ti", "m", "h", "ph", "p", "g", "kg", "km", "cm", "mm", "ml", "gb", "mb"}
    | {"tb", "th", "st", "nd", "rd", "vnd", "usd", "d", "s", "x", "lan", "ngay", "thang", "nam", "gio"}
    | {"phut", "tuoi", "cai", "con", "nguoi", "lit", "tuan", "giay", "trang", "chiec", "mon", "dong"}
    | {"am", "pm", "hr", "hrs", "min", "mins", "sec", "secs", "ms", "day", "days", "wk", "yr", "yrs"}
    | {"yo", "kb", "mg", "ft", "mi", "hz", "mhz", "ghz", "kw", "kwh", "mph", "kph", "px", "fps", "lbs"}
    | {"oz", "in", "gp", "ds", "dx", "ts", "xl", "xs", "eur", "gbp", "jpy", "pcs"}
)
_LEET_SYMBOLS: Final = tuple(_LEET)


def separator_edits(text: str, data: bytes) -> list[Edit]:
    """Join single letters split by separators; a wider or different gap inside the chain stays a space."""
    edits: list[Edit] = []
    for spans in SPLIT_CHAIN.find_all(data, _MAX_EDITS):
        if spans[1][0] >= 0:
            edits.extend(_chain_edits(text, *spans[1]))
        else:
            edits.append((spans[2][0] + 1, spans[2][0] + 2, ""))  # drop the dot of "d.m"
    return edits


def _chain_edits(text: str, start: int, end: int) -> list[Edit]:
    """Edits for one candidate chain, or none when it does not look like a split word."""
    elements = [i for i in range(start, end) if text[i] in _ALNUM]
    letters = sum(1 for i in elements if text[i] in _LETTERS)
    digits = len(elements) - letters
    if len(elements) < 3 or letters <= digits or any(text[i] not in _CHAIN_CHARS for i in elements):
        return []
    separators = [(a + 1, b) for a, b in itertools.pairwise(elements)]
    usual, count = Counter(text[a:b] for a, b in separators).most_common(1)[0]
    if count < 2:
        return []  # "a---z o": one separator between two letters is not a split word.
    if usual.strip() == "" and len(elements) < 4:
        return []  # "a o k": three lone letters and spaces are too often real words.
    return [(a, b, " " if text[a:b] != usual and " " in text[a:b] else "") for a, b in separators]


def whitespace_edits(text: str) -> list[Edit]:
    """Collapse each run of spaces to one and drop them at both ends (charfold made every space " ")."""
    if text[:1] != " " and text[-1:] != " " and "  " not in text:
        return []  # the common case, in three C calls
    body = text.strip(" ")
    if not body:
        return [(0, len(text), "")] if text else []
    lead = len(text) - len(text.lstrip(" "))
    stop = lead + len(body)
    edits: list[Edit] = [(0, lead, "")] if lead else []
    index = text.find("  ", lead, stop)
    while index >= 0 and len(edits) < _MAX_EDITS:
        end = index + 2
        while text[end] == " ":  # the run ends before `stop`: body ends with a non-space
            end += 1
        edits.append((index, end, " "))
        index = text.find("  ", end, stop)
    if stop < len(text):
        edits.append((stop, len(text), ""))
    return edits


def leet_edits(text: str, data: bytes) -> list[Edit]:
    """Undo leetspeak inside words that have letters; numbers, amounts and mentions keep their symbols."""
    if not any(symbol in text for symbol in _LEET_SYMBOLS):
        return []
    edits: list[Edit] = []
    done = -1
    # Only a symbol touching a letter can be leetspeak; find those, then read the whole word around each.
    for spans in LEET_CANDIDATE.find_all(data, _MAX_EDITS):
        at = spans[0][0] if text[spans[0][0]] in _LEET_WORD else spans[0][0] + 1  # skip the leading boundary
        if at < done:
            continue
        base, token = _word_around(text, at)
        done = base + len(token)
        if sum(1 for c in token if c in _LETTERS) < 2 or not _OTHER_DIGITS.isdisjoint(token):
            continue  # a digit that stands for no letter makes a code, a wallet or a plate number
        if "@" in token and text[base + len(token) : base + len(token) + 1] == ".":
            continue  # "name@gmail.com": an address, not "h@ck".
        edits.extend((base + i, base + i + 1, _LEET[token[i]]) for i in _leet_positions(token))
    return edits


def _word_around(text: str, index: int) -> tuple[int, str]:
    """The run of letters, digits, "@" and "$" that contains position `index`."""
    start = index
    while start > 0 and text[start - 1] in _LEET_WORD:
        start -= 1
    end = index
    while end < len(text) and text[end] in _LEET_WORD:
        end += 1
    return start, text[start:end]


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
    """Whether a run of non-letters in a word stands for letters.

    Inside a word ("ch3t", "h@ck") it does. At the start only 0, 3 and 4 before two letters that are not
    a unit ("4nh", not "4tr" or "1thung"). At the end only "$" and "0" ("ch0"): "vtv3", "mp3" and "in4"
    are names.
    """
    run = token[start:end]
    if any(c not in _LEET for c in run) or len(run) > 2:
        return False
    if start > 0 and end < len(token):
        return True
    if start == 0 and end < len(token):
        rest = token[end:]
        return run in _LEADING_LEET and len(rest) >= 2 and rest.isalpha() and rest not in _UNITS
    return run in {"$", "$$", "0"}
