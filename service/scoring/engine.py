"""The compiled ruleset: one scan of the text, then only the rules some atom woke up are evaluated.

A rule whose condition is false when none of its atoms holds can only match if one of them holds, so it
is looked at only when the scan reports one of its atoms. That keeps the cost of 10,000 keyword rules
close to the cost of 10: what grows is the automaton, not the work per report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from service.scoring.atoms import Atom, compile_regex
from service.scoring.condition import Predicate, compile_tree, necessary_names, referenced_names
from service.scoring.facts import FactCheck, fact_check
from service.scoring.fields import FieldKind
from service.scoring.model import Evidence, Rule
from service.scoring.textindex import TextIndex, TrueAtoms, resolve

MAX_EVIDENCE_PER_HIT = 10


class CompiledRules:
    """The base (non-composite) rules of a ruleset, compiled for matching."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._atom_ids: dict[Atom, int] = {}
        self._atom_rules: dict[int, list[int]] = {}
        self._predicates: list[Predicate] = []
        self._positive_atoms: list[tuple[int, ...]] = []
        self._required_atoms: list[frozenset[int]] = []
        self._channels = tuple(rule.channels for rule in self.rules)
        for index, rule in enumerate(self.rules):
            self._compile_rule(index, rule)
        self._always = tuple(i for i, p in enumerate(self._predicates) if p(frozenset()))
        atoms = list(self._atom_ids.items())
        self._text = TextIndex((i, a) for a, i in atoms if a.kind is FieldKind.TEXT and a.op != "exists")
        facts: dict[str, list[tuple[int, Atom]]] = {}
        for atom, atom_id in atoms:
            if atom.kind is not FieldKind.TEXT or atom.op == "exists":
                facts.setdefault(atom.field, []).append((atom_id, atom))
        # Per fact field: its atoms' tests, and those that can hold when the fact is unknown (only `exists`):
        # an SMS knows none of the e-mail facts, and those atoms need no call at all.
        self._facts = tuple(_fact_field(field, entries) for field, entries in facts.items())

    def _compile_rule(self, index: int, rule: Rule) -> None:
        selection_ids: dict[str, frozenset[int]] = {}
        for name, atoms in rule.selections.items():
            selection_ids[name] = frozenset(self._atom_ids.setdefault(a, len(self._atom_ids)) for a in atoms)
            for atom_id in selection_ids[name]:
                rules = self._atom_rules.setdefault(atom_id, [])
                if not rules or rules[-1] != index:
                    rules.append(index)

        def leaf(name: str) -> Predicate:
            needed = selection_ids[name]
            return lambda facts: needed <= facts

        self._predicates.append(compile_tree(rule.condition, leaf))
        positive = {n for n, polarity in referenced_names(rule.condition) if polarity}
        self._positive_atoms.append(tuple(sorted({i for n in positive for i in selection_ids[n]})))
        necessary = necessary_names(rule.condition)
        self._required_atoms.append(frozenset(i for n in necessary for i in selection_ids[n]))

    @property
    def atom_count(self) -> int:
        """How many distinct atoms the rules use."""
        return len(self._atom_ids)

    def true_atoms(self, fields: Mapping[str, object]) -> TrueAtoms:
        """Every atom that holds on the report, with its evidence."""
        found: TrueAtoms = {}
        self._text.scan(fields, found)
        for field, checks, when_unknown in self._facts:
            value = fields.get(field)
            for atom_id, check in checks if value is not None else when_unknown:
                evidence = check(value)
                if evidence is not None:
                    found[atom_id] = [Evidence(field, text, span) for text, span in evidence]
        return found

    def matching(self, found: TrueAtoms, channel: str) -> list[int]:
        """Indices of the rules that match, given the atoms that hold."""
        facts = set(found)
        candidates = set(self._always)
        for atom_id in facts:
            candidates.update(self._atom_rules.get(atom_id, ()))
        # Most rules an atom wakes up lack another atom their condition cannot do without: one subset
        # test rules them out before their condition is walked.
        required, channels, predicates = self._required_atoms, self._channels, self._predicates
        return [
            index
            for index in sorted(candidates)
            if required[index] <= facts and channel in channels[index] and predicates[index](facts)
        ]

    def evidence(self, index: int, found: TrueAtoms) -> tuple[Evidence, ...]:
        """The evidence of a matching rule: what its positive atoms saw."""
        seen: dict[Evidence, None] = {}
        for atom_id in self._positive_atoms[index]:
            for item in found.get(atom_id, ()):
                seen.setdefault(resolve(item) if isinstance(item, tuple) else item)
        return tuple(seen)[:MAX_EVIDENCE_PER_HIT]


FactChecks = tuple[tuple[int, FactCheck], ...]


def _fact_field(field: str, atoms: list[tuple[int, Atom]]) -> tuple[str, FactChecks, FactChecks]:
    """A fact field, its atoms' tests, and the tests of those that can hold when the fact is unknown."""
    checks = [(atom_id, _fact_check(atom)) for atom_id, atom in atoms]
    when_unknown = [check for check, (_, atom) in zip(checks, atoms, strict=True) if atom.op == "exists"]
    return field, tuple(checks), tuple(when_unknown)


def _fact_check(atom: Atom) -> FactCheck:
    regex = compile_regex(str(atom.value)) if atom.op == "regex" else None
    return fact_check(atom, regex)  # type: ignore[arg-type]  # a loaded rule's regex compiles
