"""The compiled ruleset: one scan of the text, then only the rules some atom woke up are evaluated.

A rule whose condition is false when none of its atoms holds can only match if one of them holds, so it
is looked at only when the scan reports one of its atoms. That keeps the cost of 10,000 keyword rules
close to the cost of 10: what grows is the automaton, not the work per report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from service.scoring.atoms import Atom, compile_regex
from service.scoring.condition import Predicate, compile_tree, referenced_names
from service.scoring.facts import fact_evidence
from service.scoring.fields import FieldKind
from service.scoring.model import Evidence, Rule
from service.scoring.textindex import PendingEvidence, TextIndex, TrueAtoms

MAX_EVIDENCE_PER_HIT = 10


class CompiledRules:
    """The base (non-composite) rules of a ruleset, compiled for matching."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._atom_ids: dict[Atom, int] = {}
        self._atom_rules: dict[int, list[int]] = {}
        self._predicates: list[Predicate] = []
        self._positive_atoms: list[tuple[int, ...]] = []
        for index, rule in enumerate(self.rules):
            self._compile_rule(index, rule)
        self._always = tuple(i for i, p in enumerate(self._predicates) if p(frozenset()))
        atoms = list(self._atom_ids.items())
        self._text = TextIndex((i, a) for a, i in atoms if a.kind is FieldKind.TEXT and a.op != "exists")
        self._facts: dict[str, list[tuple[int, Atom, object]]] = {}
        for atom, atom_id in atoms:
            if atom.kind is not FieldKind.TEXT or atom.op == "exists":
                regex = compile_regex(str(atom.value)) if atom.op == "regex" else None
                self._facts.setdefault(atom.field, []).append((atom_id, atom, regex))

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

    @property
    def atom_count(self) -> int:
        """How many distinct atoms the rules use."""
        return len(self._atom_ids)

    def true_atoms(self, fields: Mapping[str, object]) -> TrueAtoms:
        """Every atom that holds on the report, with its evidence."""
        found: TrueAtoms = {}
        self._text.scan(fields, found)
        for field, entries in self._facts.items():
            value = fields.get(field)
            for atom_id, atom, regex in entries:
                evidence = fact_evidence(atom, value, regex)  # type: ignore[arg-type]
                if evidence is not None:
                    found[atom_id] = [Evidence(field, text, span) for text, span in evidence]
        return found

    def matching(self, found: TrueAtoms, channel: str) -> list[int]:
        """Indices of the rules that match, given the atoms that hold."""
        facts = set(found)
        candidates = set(self._always)
        for atom_id in facts:
            candidates.update(self._atom_rules.get(atom_id, ()))
        return [
            index
            for index in sorted(candidates)
            if channel in self.rules[index].channels and self._predicates[index](facts)
        ]

    def evidence(self, index: int, found: TrueAtoms) -> tuple[Evidence, ...]:
        """The evidence of a matching rule: what its positive atoms saw."""
        seen: dict[Evidence, None] = {}
        for atom_id in self._positive_atoms[index]:
            for item in found.get(atom_id, ()):
                seen.setdefault(item.resolve() if isinstance(item, PendingEvidence) else item)
        return tuple(seen)[:MAX_EVIDENCE_PER_HIT]
