"""The normalised view of a text that phrase rules match on, with exact spans back to the original.

Steps, in order (each named in `steps_applied` when it changed something):
- per character: nfkc, casefold, diacritics (Vietnamese marks dropped, đ→d), zero_width (also
  variation selectors), confusables (Cyrillic, Greek, small capitals), whitespace (tabs, newlines and
  Unicode spaces become a space);
- separators: single letters split by . - _ * / | ~ + or emoji ("g.i.ế.t", "b-o-m") join, three or
  more; split by spaces ("k h u n g  b o") four or more, a wider gap staying a word break;
- whitespace: runs to one space, ends trimmed;
- leetspeak: 0 1 3 4 @ $ between letters ("ch3t", "h@ck"), 0/3/4 before two letters ("4nh"), a final
  0 or $ after two letters ("ch0"); never in numbers, amounts ("4tr", "100k"), times and units ("3pm",
  "4g", "3kg"), names ("vtv3", "in4", "mp3"), mentions ("@admin") or e-mail addresses;
- teencode: whole words from rules/lists/teencode.tsv, also stretched ("kooo"), not after a number
  ("100 k"), not in domains, URLs and addresses ("abc.cc"), not in English contractions ("I'm");
- squeeze: a run of three or more of one letter ("giếtttt", "đmmmm") to one, or to two when that spells
  a word with a double ("killll" → "kill", "cứuuuu" → "cuu"); doubles are spelling and stay ("see",
  "app", "shoot"), except a letter typed twice in a word with diacritics ("thôii", "chếtt"). See
  text/squeeze.py for why.

Cost: plain and Vietnamese text folds in C (a codec table or decomposition, ASCII encoding) with
identity spans (see text/folding.py); one RE2 set search tells which of separators, leetspeak,
teencode and squeeze a text needs, so a stage whose candidates are absent costs nothing more.

Word boundaries belong on the view, which is ASCII for Vietnamese and Latin text. Rule phrases must go
through the same function (`normalize_phrase`) so both sides fold alike. Input longer than MAX_CHARS
is cut there and flagged `truncated`; normalisation never raises on any str.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from service.parsing.text import stages
from service.parsing.text.charfold import CharFolder, step_names
from service.parsing.text.fastre import ascii_bytes
from service.parsing.text.folding import fold_chars
from service.parsing.text.spans import Edit, MappedText
from service.parsing.text.squeeze import DOUBLES, RUNS, STEP_SQUEEZE, marked_double_edits, squeeze_edits
from service.parsing.text.teencode import STEP_TEENCODE, TeencodeStage, TeencodeTableError, load_teencode
from service.parsing.text.triggers import StageTriggers

__all__ = [
    "DEFAULT_LISTS_DIR",
    "MAX_CHARS",
    "NormalizedText",
    "Normalizer",
    "TeencodeTableError",
    "normalize",
    "normalize_phrase",
]

MAX_CHARS: Final = 100_000  # SpamAssassin reads 50 KB of text per part
DEFAULT_LISTS_DIR: Final = Path(__file__).resolve().parents[2] / "rules" / "lists"
TEENCODE_FILE: Final = "teencode.tsv"
STEP_DOUBLES: Final = "doubles"
# Stages that run only when their candidate pattern occurs (teencode expansions make no candidates).
# Teencode's own pattern, built from the table, joins them in each Normalizer.
_STAGE_PATTERNS: Final = {
    stages.STEP_SEPARATORS: stages.SPLIT_CHAIN.pattern,
    stages.STEP_LEETSPEAK: stages.LEET_CANDIDATE.pattern,
    STEP_SQUEEZE: RUNS.pattern,
    STEP_DOUBLES: DOUBLES.pattern,
}
# Not a step name of its own: a letter typed twice in a word with diacritics is squeezed too.
_TRIGGERED: Final = frozenset((stages.STEP_SEPARATORS, stages.STEP_LEETSPEAK, STEP_SQUEEZE))
# Stages after whose edits the triggers are looked for again. Not teencode: its expansions make no
# candidates. Not whitespace: it only shortens runs of spaces to one and trims the ends, which neither
# makes nor removes a leetspeak, stretched-letter, double-letter or teencode (standalone word) candidate,
# and the separators stage, whose candidates spaces can change, has already run.
_RETRIGGERING: Final = frozenset((stages.STEP_SEPARATORS, stages.STEP_LEETSPEAK, STEP_SQUEEZE))


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """The view `text` of `original`; character i of `text` came from original[starts[i]:ends[i]]."""

    original: str
    text: str
    steps_applied: tuple[str, ...]
    truncated: bool = False
    starts: Sequence[int] = field(default=(), repr=False)
    ends: Sequence[int] = field(default=(), repr=False)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map the span [start, end) of the view to the exact span of the original it came from."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span [{start}, {end}) is outside the normalised text of {len(self.text)}")
        if start < end:
            return self.starts[start], self.ends[end - 1]
        return self._point(start), self._point(start)

    def _point(self, index: int) -> int:
        """The original offset of the boundary before character `index` of the view."""
        if index < len(self.starts):
            return self.starts[index]
        return self.ends[-1] if self.ends else 0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (the spans stay in the object)."""
        return {"text": self.text, "steps_applied": list(self.steps_applied), "truncated": self.truncated}


class Normalizer:
    """Holds the character cache and the teencode table; build once and share."""

    __slots__ = ("_folder", "_stages", "_teencode", "_triggers")

    def __init__(self, teencode: Mapping[str, str]) -> None:
        self._folder = CharFolder()
        self._teencode = TeencodeStage(teencode)
        # The set pass that finds the other stages' candidates also tells whether any table word stands
        # alone in the text, which spares the teencode stage its own search in most texts.
        words = self._teencode.pattern
        self._triggers = StageTriggers(_STAGE_PATTERNS | ({STEP_TEENCODE: words} if words else {}))
        # Each stage gets the current view, the same as ASCII bytes (one byte per character) and
        # the names of the triggers found in it.
        self._stages: tuple[tuple[str, Callable[[str, bytes, frozenset[str]], list[Edit]]], ...] = (
            (stages.STEP_SEPARATORS, _separator_edits),
            (stages.STEP_WHITESPACE, _whitespace_edits),
            (stages.STEP_LEETSPEAK, _leet_edits),
            (STEP_TEENCODE, self._teencode_edits),
            (STEP_SQUEEZE, _squeeze_edits),
        )

    @classmethod
    def load(cls, lists_dir: Path = DEFAULT_LISTS_DIR) -> Normalizer:
        """Build from the lists folder (raises TeencodeTableError on a malformed table)."""
        return cls(load_teencode(lists_dir / TEENCODE_FILE))

    def normalize(self, text: str) -> NormalizedText:
        """Normalise one text; never raises on any str."""
        truncated = len(text) > MAX_CHARS
        original = text[:MAX_CHARS] if truncated else text
        mapped, flags = fold_chars(original, self._folder)
        steps = step_names(flags)
        data = ascii_bytes(mapped.text)
        needed = self._triggers.present(data)
        for name, make_edits in self._stages:
            if name in _TRIGGERED and name not in needed:
                continue
            edits = make_edits(mapped.text, data, needed)
            if edits:
                mapped = mapped.rewrite(edits)
                data = ascii_bytes(mapped.text)
                if name in _RETRIGGERING:
                    needed = self._triggers.present(data)
                if name not in steps:
                    steps.append(name)
        if STEP_DOUBLES in needed and not original.isascii():
            edits = marked_double_edits(original, mapped, data)
            if edits:
                mapped = mapped.rewrite(edits)
                if STEP_SQUEEZE not in steps:
                    steps.append(STEP_SQUEEZE)
        return _result(text, mapped, tuple(steps), truncated)

    def _teencode_edits(self, text: str, data: bytes, needed: frozenset[str]) -> list[Edit]:
        # Whitespace edits since the triggers were last found neither make nor break a standalone word.
        stretched = STEP_SQUEEZE in needed
        if not stretched and STEP_TEENCODE not in needed:
            return []
        return self._teencode.edits(text, data, stretched=stretched)


def _separator_edits(text: str, data: bytes, _needed: frozenset[str]) -> list[Edit]:
    return stages.separator_edits(text, data)


def _whitespace_edits(text: str, _data: bytes, _needed: frozenset[str]) -> list[Edit]:
    return stages.whitespace_edits(text)


def _leet_edits(text: str, data: bytes, _needed: frozenset[str]) -> list[Edit]:
    return stages.leet_edits(text, data)


def _squeeze_edits(text: str, data: bytes, _needed: frozenset[str]) -> list[Edit]:
    return squeeze_edits(text, data)


def _result(text: str, mapped: MappedText, steps: tuple[str, ...], truncated: bool) -> NormalizedText:
    return NormalizedText(text, mapped.text, steps, truncated, mapped.starts, mapped.ends)


_default: Normalizer | None = None


def default_normalizer() -> Normalizer:
    """The shared normaliser built from the repository's rules/lists on first use."""
    global _default  # noqa: PLW0603 - a lazily built, read-only singleton
    if _default is None:
        _default = Normalizer.load()
    return _default


def normalize(text: str) -> NormalizedText:
    """Normalise a text with the default normaliser."""
    return default_normalizer().normalize(text)


def normalize_phrase(phrase: str) -> str:
    """The view of a rule phrase, so that phrases and texts fold the same way."""
    return default_normalizer().normalize(phrase).text
