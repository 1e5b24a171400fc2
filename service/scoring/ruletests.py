"""Running every rule's own `tests:` samples against the whole ruleset (composites need their members)."""

from __future__ import annotations

from service.scoring.errors import Issue
from service.scoring.fields import CHANNELS
from service.scoring.model import Rule, Sample
from service.scoring.ruleset import Ruleset


def _channel(rule: Rule, sample: Sample) -> str:
    if sample.channel is not None:
        return sample.channel
    return "sms" if "sms" in rule.channels else sorted(rule.channels or CHANNELS)[0]


def run_rule_tests(ruleset: Ruleset) -> list[Issue]:
    """One issue per sample whose outcome is not the expected one."""
    issues: list[Issue] = []
    for rule in ruleset.rules:
        if rule.status == "deprecated":
            continue
        for sample in rule.tests:
            result = ruleset.score(sample.fields, channel=_channel(rule, sample))
            hit = any(h.rule == rule.id for h in result.hits)
            if hit != sample.expect_match:
                issues.append(_failure(rule, sample, result.level))
    return issues


def _failure(rule: Rule, sample: Sample, level: str) -> Issue:
    text = sample.fields.get("text")
    shown = f" {str(text)[:60]!r}" if isinstance(text, str) else ""
    if sample.expect_match:
        return Issue(sample.path, sample.line, f"test failed: {rule.id} did not match{shown}")
    return Issue(
        sample.path, sample.line, f"test failed: {rule.id} matched a no_match sample{shown} ({level})"
    )
