"""Squeeze: letters stretched for emphasis ("giếttttt", "đmmmm", "killllll") back to their spelling.

Only a run of three or more of one letter is stretching. A double is spelling: English has many
("see", "kill", "app", "shoot", "http"), and squeezing them made English read as Vietnamese ("see"
became "se", the folded "sẽ"). Vietnamese writes no double letter except the "uu" that "ưu" folds to
("cứu", "hưu") and the rare "oo" ("xoong"), so a stretched letter goes back to one ("giếtttt" →
"giet", "đmmmm" → "dm"), or to two when that spells a word of DOUBLED_WORDS ("killll" → "kill",
"cứuuuu" → "cuu"). A stretched letter must not become a double in general: "giếttt" → "giett" would
match nothing. Exactly "www" stays: it is a host name, not stretching.

A double is stretching too in a word written with Vietnamese diacritics ("thôii", "chếtt", "màyy"),
where the same character was typed twice: that word is not English, and Vietnamese has no such double
(the "uu" of "cứu" comes from two different characters, "ứ" and "u"). Unaccented doubles stay, as
"anhh" cannot be told from "all" without a dictionary. Rule phrases go through the same steps
(`normalize_phrase`), so both sides agree.
"""

from __future__ import annotations

import itertools
import string
from typing import Final

from service.parsing.text.fastre import FastPattern
from service.parsing.text.folding import MARKED_LATIN
from service.parsing.text.spans import Edit, MappedText

STEP_SQUEEZE: Final = "squeeze"
RUNS: Final = FastPattern("|".join(f"{c}{{3,}}" for c in string.ascii_lowercase))
DOUBLES: Final = FastPattern("|".join(c * 2 for c in string.ascii_lowercase))
# On the original as UTF-8: a word with a letter with diacritics and a double letter, in either order.
# A cheap gate (one search) before looking at each double of the view, most of which are English.
_WORD: Final = r"[a-zA-Z\x{C0}-\x{24F}\x{1E00}-\x{1EFF}]*"
_MARKED: Final = r"[\x{C0}-\x{24F}\x{1E00}-\x{1EFF}]"
_DOUBLE: Final = "(?i:" + "|".join(c * 2 for c in string.ascii_lowercase) + ")"
_MARKED_WORD_WITH_DOUBLE: Final = FastPattern(
    f"{_WORD}{_MARKED}{_WORD}{_DOUBLE}{_WORD}|{_WORD}{_DOUBLE}{_WORD}{_MARKED}{_WORD}"
)
_LETTERS: Final = frozenset(string.ascii_lowercase)
_MAX_EDITS: Final = 10_000
_MAX_RUNS_TRIED: Final = 3  # 2**3 spellings at most per word

# Words whose double letter survives stretching ("tooooo" → "too"). English words that threats and
# scams use, and the Vietnamese syllables in "ưu"/"oo" as they fold (no diacritics).
DOUBLED_WORDS: Final = frozenset(
    """
    account accounts address all app apps arrest arrested attack attacked attacking bullet bullets
    call called calling cell class cool cross dollar dollars door dress free freedom gonna good goodbye
    hell hello ill immediately install kidnapped kill killed killer killing kills kindness kiss letter
    mess miss need needed off office pass passport password shall shoot shooting small
    school see seen sell soon sorry stuff suffer summons swallow tell terror terrorist terrorists three
    tomorrow too took tree unless wallet wanna warrant week well whatsapp will yell feel feet keep sleep
    still till blood book look boss stress guess happy hurry worry funny pretty really better matter
    committee coffee street agree speed meet
    uu cuu huu luu muu buu suu tuu truu khuu nhuu xoong boong soong
    """.split()  # noqa: SIM905 - a word list reads better as text
)


def squeeze_edits(text: str, data: bytes) -> list[Edit]:
    """Edits that squeeze each stretched run; `data` is `text` as ASCII bytes."""
    runs = [spans[0] for spans in RUNS.find_all(data, _MAX_EDITS)]
    edits: list[Edit] = []
    index = 0
    while index < len(runs):
        word_start, word_end = _word_bounds(text, *runs[index])
        in_word = []
        while index < len(runs) and runs[index][0] < word_end:
            in_word.append((runs[index][0] - word_start, runs[index][1] - runs[index][0]))
            index += 1
        kept = _kept_lengths(text[word_start:word_end], in_word)
        edits.extend(
            (word_start + offset, word_start + offset + size, text[word_start + offset] * keep)
            for (offset, size), keep in zip(in_word, kept, strict=True)
            if keep != size
        )
    return edits


def marked_double_edits(original: str, mapped: MappedText, data: bytes) -> list[Edit]:
    """Squeeze a letter typed twice in a word written with Vietnamese diacritics ("thôii" → "thoi").

    `data` is the view as ASCII bytes; runs of three are already squeezed.
    """
    if _MARKED_WORD_WITH_DOUBLE.search(original.encode("utf-8")) is None:
        return []
    text, starts, ends = mapped.text, mapped.starts, mapped.ends
    edits: list[Edit] = []
    for spans in DOUBLES.find_all(data, _MAX_EDITS):
        first = spans[0][0]
        second = first + 1
        if starts[first] == starts[second]:
            continue  # both letters came from one character: an expansion, not typing
        if original[starts[first] : ends[first]] != original[starts[second] : ends[second]]:
            continue  # "ứu": two different characters
        word_start, word_end = _word_bounds(text, first, second + 1)
        if any(original[starts[index]] in MARKED_LATIN for index in range(word_start, word_end)):
            edits.append((first, second + 1, text[first]))
    return edits


def squeeze_word(word: str) -> str:
    """The squeezed form of one word of letters, as squeeze_edits would leave it."""
    runs: list[tuple[int, int]] = []
    offset = 0
    for _, group in itertools.groupby(word):
        size = len(list(group))
        if size >= 3:
            runs.append((offset, size))
        offset += size
    if not runs:
        return word
    return _spell(word, runs, _kept_lengths(word, runs))


def _word_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The run of ASCII letters around [start, end)."""
    while start > 0 and text[start - 1] in _LETTERS:
        start -= 1
    while end < len(text) and text[end] in _LETTERS:
        end += 1
    return start, end


def _kept_lengths(word: str, runs: list[tuple[int, int]]) -> list[int]:
    """How many letters each run keeps: 1, or 2 when that spells a known doubled word; "www" keeps 3."""
    base = [3 if size == 3 and word[offset] == "w" else 1 for offset, size in runs]
    if len(runs) > _MAX_RUNS_TRIED:
        return base
    # Fewest doubles first, so "giếtttt" is "giet" even if some "giett" were listed.
    choices = sorted(itertools.product((1, 2), repeat=len(runs)), key=sum)
    for choice in choices[1:]:
        kept = [b if b == 3 else c for b, c in zip(base, choice, strict=True)]
        if _spell(word, runs, kept) in DOUBLED_WORDS:
            return kept
    return base


def _spell(word: str, runs: list[tuple[int, int]], kept: list[int]) -> str:
    """The word with each run cut to its kept length."""
    parts = []
    cursor = 0
    for (offset, size), keep in zip(runs, kept, strict=True):
        parts.append(word[cursor : offset + keep])
        cursor = offset + size
    parts.append(word[cursor:])
    return "".join(parts)
