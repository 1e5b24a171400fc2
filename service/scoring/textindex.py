"""Every text atom of a ruleset in one index: one Aho-Corasick automaton for all keywords, RE2 for regexes.

A report's text fields are each normalised once and scanned once, whatever the number of rules. Keywords only
match whole words of the normalised text: keys and text are space-padded word views (RE2's \\b is
ASCII-only, so the boundaries are ours).
Nothing here backtracks: the automaton and RE2 are linear in the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import ahocorasick
import re2

from service.scoring.accents import Signature, accents_agree
from service.scoring.atoms import Atom, compile_regex, regex_options
from service.scoring.model import Evidence
from service.scoring.scanview import MAX_SCAN_CHARS, ScanView, phrase_key

MAX_EVIDENCE_PER_ATOM = 3
REGEX_SET_THRESHOLD = 4  # up to this many, one search per regex costs less than a set pass


PendingEvidence = tuple[str, ScanView, int, int]
"""A keyword or regex hit (field, view, start, end) whose original text is looked up only if a matching rule
shows it.

Most atoms that hold belong to no matching rule ("you" is everywhere), so mapping every hit back to the
original text would be wasted work. A plain tuple, also passed whole to _record_phrase: a class instance with
an __init__, and the span unpacked into each call (*args takes CPython's slow call path), cost the keyword
scan of a 900-character SMS ~229,000 instructions instead of ~195,000 (callgrind).
"""


def resolve(pending: PendingEvidence) -> Evidence:
    """The Evidence of a pending hit: field, original text and span."""
    field, view, start, end = pending
    text, span = view.evidence_text(start, end)
    return Evidence(field, text, span)


TrueAtoms = dict[int, list[Evidence | PendingEvidence]]


class TextIndex:
    """The compiled text atoms of one ruleset; immutable once built, safe to share between threads."""

    def __init__(self, atoms: Iterable[tuple[int, Atom]]) -> None:
        self._automaton = ahocorasick.Automaton()
        self._phrase_ids: dict[str, int] = {}
        self._keyword_atoms: dict[str, dict[int, list[tuple[int, frozenset[Signature] | None]]]] = {}
        self._regexes: dict[str, list[tuple[int, re2._Regexp]]] = {}
        self._raw_regexes: dict[str, list[tuple[int, re2._Regexp]]] = {}
        self._regex_sets: dict[str, re2.Set] = {}
        self._whole: dict[str, list[tuple[int, Atom]]] = {}
        for atom_id, atom in atoms:
            self._add(atom_id, atom)
        if self._phrase_ids:
            self._automaton.make_automaton()
        for field, regexes in self._regexes.items():
            if len(regexes) > REGEX_SET_THRESHOLD:
                self._regex_sets[field] = self._regex_set(regexes)
        self.fields = frozenset(self._keyword_atoms) | frozenset(self._regexes) | frozenset(self._whole)
        self.fields |= frozenset(self._raw_regexes)
        """The text fields some atom reads."""

    def _add(self, atom_id: int, atom: Atom) -> None:
        phrases = atom.phrases()
        if phrases:
            by_phrase = self._keyword_atoms.setdefault(atom.field, {})
            for phrase, allowed in phrases:
                by_phrase.setdefault(self._phrase_id(phrase), []).append((atom_id, allowed))
        elif atom.op in {"regex", "regex_raw"}:
            compiled = compile_regex(str(atom.value))
            if isinstance(compiled, str):
                raise ValueError(compiled)  # validated at load; unreachable for a loaded rule
            target = self._regexes if atom.op == "regex" else self._raw_regexes
            target.setdefault(atom.field, []).append((atom_id, compiled))
        elif atom.op in {"equals", "in"}:
            self._whole.setdefault(atom.field, []).append((atom_id, atom))

    def _phrase_id(self, phrase: str) -> int:
        key = phrase_key(phrase)
        known = self._phrase_ids.get(key)
        if known is not None:
            return known
        phrase_id = len(self._phrase_ids)
        self._phrase_ids[key] = phrase_id
        self._automaton.add_word(key, (phrase_id, len(key)))
        return phrase_id

    @staticmethod
    def _regex_set(regexes: list[tuple[int, re2._Regexp]]) -> re2.Set:
        options = regex_options()
        options.max_mem = max(64 << 20, min(1 << 30, len(regexes) * (64 << 10)))
        regex_set = re2.Set.SearchSet(options)
        for _, compiled in regexes:
            regex_set.Add(compiled.pattern)
        regex_set.Compile()
        return regex_set

    def scan(self, fields: Mapping[str, object], true_atoms: TrueAtoms) -> None:
        """Record every text atom that holds on `fields`, with its evidence."""
        for field in self.fields:
            value = fields.get(field)
            if isinstance(value, str) and value:
                view = ScanView(value)
                self._scan_keywords(field, view, true_atoms)
                self._scan_regexes(field, view, true_atoms)
                self._scan_raw_regexes(field, value, true_atoms)
                self._match_whole(field, view, true_atoms)

    def _scan_keywords(self, field: str, view: ScanView, true_atoms: TrueAtoms) -> None:
        by_phrase = self._keyword_atoms.get(field)
        if not by_phrase:
            return
        # A phrase whose atoms all hold with their full evidence is skipped at its later hits: a long
        # message repeats its words, and each hit would otherwise walk the phrase's atoms again.
        done: set[int] = set()
        for end, (phrase_id, length) in self._automaton.iter(view.padded):
            if phrase_id in done:
                continue
            candidates = by_phrase.get(phrase_id)
            if candidates is None:
                done.add(phrase_id)  # a phrase of another field
                continue
            # The key spans padded[end - length + 1 : end + 1] with a space at each end; padded index i is
            # text index i - 1, so the phrase itself is text[end - length + 1 : end - 1].
            if _record_phrase(candidates, (field, view, end - length + 1, end - 1), true_atoms):
                done.add(phrase_id)

    def _scan_regexes(self, field: str, view: ScanView, true_atoms: TrueAtoms) -> None:
        regexes = self._regexes.get(field)
        if not regexes:
            return
        # google-re2 encodes a str to UTF-8 and maps every offset back on each call; the view is ASCII in
        # nearly every report, and as bytes it is searched as is, with byte offsets that are its offsets.
        subject: str | bytes = view.text.encode("ascii") if view.text.isascii() else view.text
        regex_set = self._regex_sets.get(field)
        chosen = regexes if regex_set is None else [regexes[i] for i in regex_set.Match(subject) or ()]
        for atom_id, compiled in chosen:
            match = compiled.search(subject)
            if match is not None:
                self._record((atom_id,), field, view, match.span(), true_atoms)

    def _scan_raw_regexes(self, field: str, value: str, true_atoms: TrueAtoms) -> None:
        """`regex_raw` atoms search the original text: spans need no mapping back."""
        regexes = self._raw_regexes.get(field)
        if not regexes:
            return
        text = value[:MAX_SCAN_CHARS]
        # Searched as UTF-8 bytes, encoded once: google-re2 would encode a str on every call and map every
        # offset back; only a match's offsets need mapping, and matches are rare.
        data = text.encode("utf-8")
        for atom_id, compiled in regexes:
            match = compiled.search(data)
            if match is not None:
                span = _char_span(data, *match.span())
                true_atoms.setdefault(atom_id, []).append(Evidence(field, text[span[0] : span[1]], span))

    def _match_whole(self, field: str, view: ScanView, true_atoms: TrueAtoms) -> None:
        whole = view.text.strip()
        for atom_id, atom in self._whole.get(field, ()):
            held = whole == atom.value if atom.op == "equals" else whole in atom.value  # type: ignore[operator]
            if held:
                self._record((atom_id,), field, view, (0, len(view.text)), true_atoms)

    @staticmethod
    def _record(
        atom_ids: Iterable[int], field: str, view: ScanView, span: tuple[int, int], true_atoms: TrueAtoms
    ) -> None:
        pending: PendingEvidence = (field, view, *span)
        for atom_id in atom_ids:
            found = true_atoms.setdefault(atom_id, [])
            if len(found) < MAX_EVIDENCE_PER_ATOM:
                found.append(pending)


def _record_phrase(
    candidates: list[tuple[int, frozenset[Signature] | None]], hit: PendingEvidence, true_atoms: TrueAtoms
) -> bool:
    """Record one hit of a phrase for each of its atoms that wants it; True when all of them are full.

    One loop both records and tells whether the phrase is done, on the hot path of every report. An atom
    listed twice under one phrase (two keywords that fold alike) may report "not full" at its first entry
    and fill at its second: the phrase is then marked done at its next hit, which records nothing.
    """
    _, view, start, end = hit
    original: str | None = None
    full = True
    for atom_id, allowed in candidates:
        found = true_atoms.get(atom_id)
        if found is not None and len(found) >= MAX_EVIDENCE_PER_ATOM:
            continue  # already true with all the evidence it keeps: a repeat adds nothing
        if allowed is not None and not view.ascii_original:
            if original is None:
                original = view.evidence_text(start, end)[0]
            if not accents_agree(original, allowed):
                full = False
                continue
        if found is None:
            found = true_atoms[atom_id] = []
        found.append(hit)
        full = full and len(found) >= MAX_EVIDENCE_PER_ATOM
    return full


def _char_span(data: bytes, start: int, end: int) -> tuple[int, int]:
    """The character span of the UTF-8 bytes data[start:end] (RE2 matches whole UTF-8 characters)."""
    char_start = len(data[:start].decode("utf-8"))
    return char_start, char_start + len(data[start:end].decode("utf-8"))
