"""The rule engine: YAML rules from `rules/`, validated, compiled once, and scored per report.

Public surface:
    load_ruleset(dir) -> Ruleset            raises RulesetError(issues) listing every error
    Ruleset.score(fields, channel=) -> ScoreResult
    score_report(ruleset, fields, channel=) -> ScoreResult
    RulesetHolder                            atomic swap for hot reload; reload(dir) -> ReloadResult
    ruleset_version(dir) -> str              git commit of the folder when clean, else sha256 of its content
    tree_fingerprint(dir) -> str             cheap stat-based change detector for a watcher
    KNOWN_FIELDS                             the field names rules may test
"""

from collections.abc import Mapping

from service.scoring.errors import Issue, RulesetError
from service.scoring.fields import KNOWN_FIELDS, FieldKind
from service.scoring.holder import ReloadResult, RulesetHolder
from service.scoring.loader import load_ruleset
from service.scoring.model import Evidence, Hit, Rule, ScoreResult
from service.scoring.ruleset import Ruleset
from service.scoring.thresholds import Thresholds
from service.scoring.version import ruleset_version, tree_fingerprint


def score_report(ruleset: Ruleset, fields: Mapping[str, object], *, channel: str) -> ScoreResult:
    """Score one report's fields with `ruleset`."""
    return ruleset.score(fields, channel=channel)


__all__ = [
    "KNOWN_FIELDS",
    "Evidence",
    "FieldKind",
    "Hit",
    "Issue",
    "ReloadResult",
    "Rule",
    "Ruleset",
    "RulesetError",
    "RulesetHolder",
    "ScoreResult",
    "Thresholds",
    "load_ruleset",
    "ruleset_version",
    "score_report",
    "tree_fingerprint",
]
