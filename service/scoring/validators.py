"""Checks across rules: duplicate ids, composites naming what is not there, rules with the same logic."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from service.scoring.condition import ConditionError, canonical, referenced_names, resolve
from service.scoring.errors import Issue
from service.scoring.model import Rule
from service.scoring.thresholds import Thresholds


def duplicate_ids(located_ids: Sequence[tuple[str, str, int]]) -> list[Issue]:
    """Every id used twice (path, line of each later use)."""
    first: dict[str, tuple[str, int]] = {}
    issues: list[Issue] = []
    for rule_id, path, line in located_ids:
        if rule_id in first:
            where = f"{first[rule_id][0]}:{first[rule_id][1]}"
            issues.append(Issue(path, line, f"duplicate rule id {rule_id!r} (first at {where})"))
        else:
            first[rule_id] = (path, line)
    return issues


def resolve_composites(rules: Sequence[Rule]) -> tuple[list[Rule], list[Issue]]:
    """Resolve each composite against the active base rule ids; drop the ones that cannot be resolved."""
    base_ids = {r.id for r in rules if not r.composite and r.status != "deprecated"}
    resolved: list[Rule] = []
    issues: list[Issue] = []
    for rule in rules:
        if not rule.composite:
            resolved.append(rule)
            continue
        try:
            node = resolve(rule.condition, base_ids)
        except ConditionError as exc:
            issues.append(
                Issue(rule.path, rule.line, f"composite {rule.id!r}: {exc} (names active base rules)")
            )
            continue
        resolved.append(dataclasses.replace(rule, condition=node))
    return resolved, issues


def _logic_key(rule: Rule) -> object:
    def leaf(name: str) -> object:
        if rule.composite:
            return ("rule", name)
        atoms = frozenset(("atom", atom) for atom in rule.selections[name])
        return next(iter(atoms)) if len(atoms) == 1 else ("and", atoms)

    return (rule.composite, rule.channels, canonical(rule.condition, leaf))


def identical_logic(rules: Sequence[Rule]) -> list[Issue]:
    """Two active rules whose detection is the same logic (same atoms, same condition up to order)."""
    seen: dict[object, Rule] = {}
    issues: list[Issue] = []
    for rule in rules:
        if rule.status == "deprecated":
            continue
        key = _logic_key(rule)
        twin = seen.setdefault(key, rule)
        if twin is not rule:
            issues.append(
                Issue(
                    rule.path, rule.line, f"rule {rule.id!r} has the same logic as {twin.id!r} ({twin.path})"
                )
            )
    return issues


def unknown_groups(rules: Sequence[Rule], thresholds: Thresholds) -> list[Issue]:
    """Rules in a group that scoring.yaml caps nowhere, when it declares groups at all."""
    if not thresholds.group_caps:
        return []
    return [
        Issue(r.path, r.line, f"group {r.group!r} is not declared under groups: in scoring.yaml")
        for r in rules
        if r.group not in thresholds.group_caps
    ]


def composite_members(rules: Sequence[Rule]) -> list[Issue]:
    """A composite must name at least one rule positively, or it would fire on every report."""
    return [
        Issue(r.path, r.line, f"composite {r.id!r} names no rule outside a `not`")
        for r in rules
        if r.composite and not any(polarity for _, polarity in referenced_names(r.condition))
    ]
