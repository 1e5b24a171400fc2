"""A loaded ruleset: base rules, composites that consume them, group caps, and the score of a report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from service.scoring.condition import Predicate, compile_tree, referenced_names
from service.scoring.engine import CompiledRules
from service.scoring.errors import Issue
from service.scoring.model import Evidence, Hit, Rule, ScoreResult
from service.scoring.textindex import TrueAtoms
from service.scoring.thresholds import Thresholds


@dataclass(frozen=True, slots=True)
class _Composite:
    rule: Rule
    predicate: Predicate
    members: tuple[int, ...]  # base rules it consumes (named positively)


def _number(value: float) -> float | int:
    rounded = round(value, 3)
    return int(rounded) if float(rounded).is_integer() else rounded


class Ruleset:
    """Immutable once built; `score` is safe to call from many threads at once."""

    def __init__(
        self, rules: Sequence[Rule], thresholds: Thresholds, version: str, warnings: Sequence[Issue] = ()
    ) -> None:
        self.rules = tuple(rules)
        self.thresholds = thresholds
        self.version = version
        self.warnings = tuple(warnings)
        active = [r for r in self.rules if r.status != "deprecated"]
        self._base = CompiledRules([r for r in active if not r.composite])
        index_of = {rule.id: i for i, rule in enumerate(self._base.rules)}
        self._composites = tuple(self._compile_composite(r, index_of) for r in active if r.composite)

    @staticmethod
    def _compile_composite(rule: Rule, index_of: Mapping[str, int]) -> _Composite:
        def leaf(name: str) -> Predicate:
            wanted = index_of[name]
            return lambda matched: wanted in matched

        positive = sorted({index_of[n] for n, polarity in referenced_names(rule.condition) if polarity})
        return _Composite(rule, compile_tree(rule.condition, leaf), tuple(positive))

    def by_id(self) -> dict[str, Rule]:
        """Every rule (deprecated included) by id."""
        return {rule.id: rule for rule in self.rules}

    def score(self, fields: Mapping[str, object], *, channel: str) -> ScoreResult:
        """Score one report's fields: the hits, their sum within group caps, the level and the lane."""
        # The analysis pipeline's fields already name their channel: no need to copy forty of them.
        view = fields if fields.get("channel") == channel else {**fields, "channel": channel}
        found = self._base.true_atoms(view)
        matched = self._base.matching(found, channel)
        hits = self._hits(matched, found, channel)
        total = self._total(hits)
        level = self.thresholds.level_for(total)
        ordered = tuple(sorted(hits, key=lambda h: (-h.score, h.rule)))
        return ScoreResult(_number(total), level, self.thresholds.lane_for(level), ordered, self.version)

    def _hits(self, matched: list[int], found: TrueAtoms, channel: str) -> list[Hit]:
        matched_set = set(matched)
        consumed: dict[int, str] = {}
        composite_hits: list[Hit] = []
        for composite in self._composites:
            rule = composite.rule
            if channel not in rule.channels or not composite.predicate(matched_set):
                continue
            members = [i for i in composite.members if i in matched_set]
            evidence: dict[Evidence, None] = {}
            for index in members:
                evidence.update(dict.fromkeys(self._base.evidence(index, found)))
                if not rule.shadow:
                    consumed.setdefault(index, rule.id)
            composite_hits.append(self._hit(rule, tuple(evidence)[:20], None))
        base_hits = [
            self._hit(self._base.rules[i], self._base.evidence(i, found), consumed.get(i)) for i in matched
        ]
        return base_hits + composite_hits

    @staticmethod
    def _hit(rule: Rule, evidence: tuple[Evidence, ...], consumed_by: str | None) -> Hit:
        score = 0 if rule.shadow or consumed_by is not None else rule.score
        return Hit(rule.id, rule.title, score, rule.group, rule.shadow, evidence, rule.level, consumed_by)

    def _total(self, hits: Sequence[Hit]) -> float:
        by_group: dict[str, float] = {}
        for hit in hits:
            by_group[hit.group] = by_group.get(hit.group, 0.0) + float(hit.score)
        caps = self.thresholds.group_caps
        total = sum(min(value, caps[group]) if group in caps else value for group, value in by_group.items())
        return max(total, 0.0)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary: version, thresholds and rule metadata."""
        return {
            "version": self.version,
            "thresholds": self.thresholds.to_dict(),
            "rules": [rule.to_dict() for rule in self.rules],
        }
