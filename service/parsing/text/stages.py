"""Word-level stages of the normalised view, each a list of edits on the folded text.

They run on text that charfold has already made lowercase ASCII-ish, so RE2's ASCII classes are
enough here. Each stage returns edits rather than a new string so that spans stay exact.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from typing import Final

from service.parsing.data.entity_tables import TLDS
from service.parsing.text.fastre import FastPattern, ascii_bytes
from service.parsing.text.spans import Edit

STEP_SEPARATORS: Final = "separators"
STEP_WHITESPACE: Final = "whitespace"  # also set by charfold for tabs and newlines
STEP_LEETSPEAK: Final = "leetspeak"
STEP_TEENCODE: Final = "teencode"
STEP_SQUEEZE: Final = "squeeze"

_ALNUM: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_LETTERS: Final = frozenset("abcdefghijklmnopqrstuvwxyz")
_LEET: Final = {"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "$": "s"}
_LEADING_LEET: Final = frozenset("034")
_LEET_WORD: Final = _ALNUM | frozenset("@$")
_CHAIN_CHARS: Final = _LETTERS | frozenset("0134")

# Single characters split by up to three separator characters: "g.i.e.t", "k h u n g", "b-o-m".
# Commas are left out: "a, b, c" is a list far more often than a disguise. "?" stands for any
# character outside ASCII in the bytes RE2 sees, so emoji between letters ("g🔪i🔪e🔪t") count too.
# The chain must stand alone: no letter or digit right before its first or after its last character.
# Matching the context (RE2 has no lookaround) keeps candidates rare: each re2 match costs microseconds.
# Group 2: two letters and one dot ("Đ.M", "x.ử"), the shortest split that is common in abuse.
_SPLIT_CHAIN: Final = FastPattern(
    r"(?:^|[^a-z0-9])([a-z0-9](?:[ .\-_*/|~+?]{1,3}[a-z0-9]){2,})(?:$|[^a-z0-9])"
    r"|(?:^|[^a-z0-9.])([a-z]\.[a-z])(?:$|[^a-z0-9.@])"
)
_WHITESPACE: Final = FastPattern(r" +")  # charfold made every kind of space a plain one
# Bounds the work of one stage on hostile text (each match costs microseconds); past it, the rest of
# the text keeps that stage undone rather than taking more than a fraction of a second.
_MAX_EDITS: Final = 10_000
# Only shapes _run_is_leet can accept: inside a word, a leading 0/3/4 before two letters, a trailing $.
_LEET_CANDIDATE: Final = FastPattern(
    r"[a-z][0134@$]{1,2}[a-z]|(?:^|[^a-z0-9@$])[034][a-z][a-z]|[a-z][a-z][$0](?:$|[^a-z0-9@$])"
)
# Runs of one repeated letter. "u" keeps two because the folded "ưu" of "cứu" is a real "uu".
_REPEATS: Final = FastPattern("|".join(f"{c}{{2,}}" for c in "abcdefghijklmnopqrstvwxyz") + "|u{3,}")

# Words glued after a number that mean an amount or a unit, so "4tr" and "1ty" keep their digits.
_UNITS: Final = frozenset(
    {"k", "tr", "trieu", "ty", "ti", "m", "h", "ph", "p", "g", "kg", "km", "cm", "mm", "ml", "gb", "mb"}
    | {"tb", "th", "st", "nd", "rd", "vnd", "usd", "d", "s", "x", "lan", "ngay", "thang", "nam", "gio"}
    | {"phut", "tuoi", "cai", "con", "nguoi"}
)


def separator_edits(text: str) -> list[Edit]:
    """Join single letters split by separators; a wider or different gap inside the chain stays a space."""
    if " " not in text and not any(c in text for c in ".-_*/|~+?") and text.isascii():
        return []
    edits: list[Edit] = []
    for spans in _SPLIT_CHAIN.find_all(ascii_bytes(text), _MAX_EDITS):
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
    """Collapse each whitespace run to one space and drop it at both ends."""
    if not _needs_whitespace_edits(text):
        return []
    edits: list[Edit] = []
    for spans in _WHITESPACE.find_all(ascii_bytes(text), _MAX_EDITS):
        start, end = spans[0]
        if start == 0 or end == len(text):
            edits.append((start, end, ""))
        elif end - start > 1:
            edits.append((start, end, " "))
    return edits


def _needs_whitespace_edits(text: str) -> bool:
    """Cheap test that spares the regex on texts whose spaces are already single."""
    return bool(text) and (text[0] == " " or text[-1] == " " or "  " in text)


def leet_edits(text: str) -> list[Edit]:
    """Undo leetspeak inside words that have letters; numbers, amounts and mentions keep their symbols."""
    edits: list[Edit] = []
    data = ascii_bytes(text)
    done = -1
    # Only a symbol touching a letter can be leetspeak; find those, then read the whole word around each.
    for spans in _LEET_CANDIDATE.find_all(data, _MAX_EDITS):
        at = spans[0][0] if text[spans[0][0]] in _LEET_WORD else spans[0][0] + 1  # skip the leading boundary
        if at < done:
            continue
        base, token = _word_around(text, at)
        done = base + len(token)
        if sum(1 for c in token if c in _LETTERS) < 2:
            continue
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


def teencode_edits(text: str, table: Mapping[bytes, str]) -> list[Edit]:
    """Expand whole words found in the teencode table, also when their letters are stretched ("kooo").

    The table is keyed by ASCII bytes: bytes.translate and split do the word finding in C.
    """
    data = ascii_bytes(text)
    masked = data.translate(_WORD_MASK)
    words = masked.split(b" ")
    expansions = {word: table[word] for word in table.keys() & set(words)}
    if _REPEATS.search(data) is not None:
        expansions.update(_stretched_expansions(words, table))
    if not expansions:
        return []
    edits: list[Edit] = []
    for word, expansion in expansions.items():
        for start in _whole_word_starts(masked, word):
            # "100 k" and "5 m" are amounts, not "không" and "mày"; ":v" is a smiley, not "vậy".
            if not _after_number_or_smiley(data, masked, start, start + len(word)):
                edits.append((start, start + len(word), expansion))
        if len(edits) >= _MAX_EDITS:
            break
    edits.sort()
    return edits[:_MAX_EDITS]


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


def _after_number_or_smiley(data: bytes, masked: bytes, start: int, end: int) -> bool:
    """Also true inside a compound such as a domain ("khoa-tk.top"), where a word is not chat."""
    after_number = start >= 2 and masked[start - 2] in _DIGIT_BYTES
    if after_number or (start >= 1 and data[start - 1] in _SMILEY_EYES):
        return True
    if start >= 2 and masked[start - 2] != _SPACE:
        before = data[start - 1]
        if before in _JOINERS or (before == _DOT and masked[start:end] in _TLD_WORDS):
            return True  # "khoa-tk", "abc.tk"
    if end + 1 < len(data) and masked[end + 1] != _SPACE:
        after = data[end]
        # "tk.top" sits in a domain; "ko.tao" is a sentence missing its space.
        return after in _JOINERS or (after == _DOT and _word_at(masked, end + 1) in _TLD_WORDS)
    return False


def _word_at(masked: bytes, start: int) -> bytes:
    end = masked.find(b" ", start)
    return masked[start : end if end >= 0 else len(masked)]


def _stretched_expansions(words: list[bytes], table: Mapping[bytes, str]) -> dict[bytes, str]:
    """Words such as "kooo" whose squeezed form is in the table."""
    found: dict[bytes, str] = {}
    for word in set(words):
        if len(word) > 2 and word not in table and word.isalpha():
            squeezed = squeeze_word(word.decode()).encode()
            if squeezed != word and len(squeezed) > 1 and squeezed in table:
                found[word] = table[squeezed]
    return found


def squeeze_edits(text: str) -> list[Edit]:
    """Squeeze runs of a repeated letter to one letter ("uuu" to "uu")."""
    runs = _REPEATS.find_all(ascii_bytes(text), _MAX_EDITS)
    return [(start, end, _squeezed_run(text[start:end])) for (start, end), *_ in runs]


def _squeezed_run(run: str) -> str:
    return "uu" if run[0] == "u" else run[0]


def squeeze_word(word: str) -> str:
    """The squeezed form of one word of letters, as squeeze_edits would leave it."""
    if len(set(word)) == len(word):
        return word
    return "".join(
        "uu" if letter == "u" and len(list(run)) > 1 else letter for letter, run in itertools.groupby(word)
    )


# bytes.translate table: letters and digits stay, every other byte (the "?" of non-ASCII too) is a space.
_WORD_MASK: Final = bytes(code if chr(code) in _ALNUM else 32 for code in range(256))
_DIGIT_BYTES: Final = frozenset(b"0123456789")
_SMILEY_EYES: Final = frozenset(b":;=")
_JOINERS: Final = frozenset(b"-/_@")
_DOT: Final = ord(".")
_TLD_WORDS: Final = frozenset(tld.encode() for tld in TLDS.split("|"))
_SPACE: Final = 32
