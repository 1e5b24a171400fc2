"""Frozen values of the rule engine: rules, their test samples, and what scoring returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from service.scoring.atoms import Atom
from service.scoring.condition import Node


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why an atom held: the field, the original text and its span in that field (None for facts)."""

    field: str
    text: str
    span: tuple[int, int] | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready view."""
        return {"field": self.field, "text": self.text, "span": list(self.span) if self.span else None}


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule that matched. `score` is what it added (0 when shadow or consumed by a composite)."""

    rule: str
    title: str
    score: float | int
    group: str
    shadow: bool
    evidence: tuple[Evidence, ...]
    level: str = "low"
    consumed_by: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready view."""
        return {
            "rule": self.rule,
            "title": self.title,
            "score": self.score,
            "group": self.group,
            "level": self.level,
            "shadow": self.shadow,
            "consumed_by": self.consumed_by,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """The risk of one report under one ruleset version."""

    score: float | int
    level: str
    lane: str
    hits: tuple[Hit, ...]
    version: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready view."""
        return {
            "score": self.score,
            "level": self.level,
            "lane": self.lane,
            "hits": [h.to_dict() for h in self.hits],
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class Sample:
    """One `tests:` sample of a rule: the fields to score and whether the rule must hit."""

    expect_match: bool
    fields: Mapping[str, object]
    channel: str | None
    path: str
    line: int


@dataclass(frozen=True, slots=True)
class Rule:
    """A validated rule. A composite's condition names rule ids instead of selections."""

    id: str
    title: str
    description: str
    status: str
    level: str
    score: float | int
    group: str
    channels: frozenset[str]
    tags: tuple[str, ...]
    falsepositives: tuple[str, ...]
    path: str
    line: int
    condition: Node
    selections: Mapping[str, tuple[Atom, ...]] = field(default_factory=dict)
    composite: bool = False
    tests: tuple[Sample, ...] = ()

    @property
    def shadow(self) -> bool:
        """Experimental rules run, record hits, and add nothing to the score."""
        return self.status == "experimental"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready metadata (no detection internals)."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "status": self.status,
            "level": self.level,
            "score": self.score,
            "group": self.group,
            "channels": sorted(self.channels),
            "tags": list(self.tags),
            "falsepositives": list(self.falsepositives),
            "composite": self.composite,
            "path": self.path,
            "line": self.line,
        }
