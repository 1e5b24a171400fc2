"""`rules/scoring.yaml`: level thresholds, the lane of each level, and per-group score caps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from service.scoring.errors import Issue
from service.scoring.fields import LEVELS
from service.scoring.yamlstrict import MarkedDict, load_yaml_documents


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where each level starts, which lane it goes to, and the most each group may add."""

    levels: tuple[tuple[str, float], ...]  # ascending by threshold
    lanes: Mapping[str, str]
    group_caps: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def level_for(self, score: float) -> str:
        """The highest level whose threshold `score` reaches."""
        reached = self.levels[0][0]
        for name, threshold in self.levels:
            if score >= threshold:
                reached = name
        return reached

    def lane_for(self, level: str) -> str:
        """The analysts' lane for a level."""
        return self.lanes.get(level, "none")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready view."""
        return {"levels": dict(self.levels), "lanes": dict(self.lanes), "group_caps": dict(self.group_caps)}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _levels(doc: MarkedDict, display: str, issues: list[Issue]) -> tuple[tuple[str, float], ...]:
    raw = doc.get("levels")
    if not isinstance(raw, dict) or set(raw) != set(LEVELS):
        issues.append(Issue(display, doc.line_of("levels"), f"levels: needs exactly {', '.join(LEVELS)}"))
        return ()
    levels = [(name, _number(raw[name])) for name in LEVELS]
    if any(value is None for _, value in levels):
        issues.append(Issue(display, doc.line_of("levels"), "levels: every threshold must be a number"))
        return ()
    ordered = tuple((name, value) for name, value in levels if value is not None)
    if [v for _, v in ordered] != sorted(v for _, v in ordered):
        issues.append(Issue(display, doc.line_of("levels"), "levels: thresholds must rise low → critical"))
    return ordered


def _group_caps(doc: MarkedDict, display: str, issues: list[Issue]) -> dict[str, float]:
    raw = doc.get("groups", {})
    caps: dict[str, float] = {}
    if not isinstance(raw, dict):
        issues.append(Issue(display, doc.line_of("groups"), "groups: needs a mapping of group → {max_score}"))
        return caps
    for group, spec in raw.items():
        cap = _number(spec.get("max_score")) if isinstance(spec, dict) else None
        if cap is None or cap < 0:
            line = raw.line_of(group) if isinstance(raw, MarkedDict) else doc.line
            issues.append(Issue(display, line, f"groups.{group}: needs `max_score: <number ≥ 0>`"))
            continue
        caps[str(group)] = cap
    return caps


def load_thresholds(path: Path, display: str) -> tuple[Thresholds | None, list[Issue]]:
    """Read scoring.yaml; every problem is returned as an Issue."""
    documents, issues = load_yaml_documents(path, display)
    if len(documents) != 1 or not isinstance(documents[0], MarkedDict):
        return None, [*issues, Issue(display, None, "needs one mapping with levels: and lanes:")]
    doc = documents[0]
    levels = _levels(doc, display, issues)
    lanes = doc.get("lanes")
    if not isinstance(lanes, dict) or not all(isinstance(lanes.get(n), str) for n in LEVELS):
        issues.append(
            Issue(display, doc.line_of("lanes"), f"lanes: needs a lane name for {', '.join(LEVELS)}")
        )
        lanes = None
    caps = _group_caps(doc, display, issues)
    if not levels or lanes is None:
        return None, issues
    lane_map = MappingProxyType({str(k): str(v) for k, v in lanes.items()})
    return Thresholds(levels, lane_map, MappingProxyType(caps)), issues
