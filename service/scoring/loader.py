"""`load_ruleset(dir)`: read, validate and compile a rules folder, reporting every error at once."""

from __future__ import annotations

from pathlib import Path

from service.scoring import validators
from service.scoring.errors import Issue, RulesetError, errors_only
from service.scoring.lists import ListStore
from service.scoring.model import Rule
from service.scoring.rulefile import parse_rule
from service.scoring.ruleset import Ruleset
from service.scoring.ruletests import run_rule_tests
from service.scoring.thresholds import load_thresholds
from service.scoring.version import ruleset_version
from service.scoring.yamlstrict import MarkedDict, load_yaml_documents

SCORING_FILE = "scoring.yaml"
NOT_RULES = frozenset({"lists", "tests"})  # top-level folders holding lists and fixtures, not rules
MAX_RULE_FILES = 50_000


def rule_files(rules_dir: Path) -> list[Path]:
    """The rule files of a folder: every .yaml/.yml except scoring.yaml, lists/ and tests/."""
    found = []
    for path in sorted([*rules_dir.rglob("*.yaml"), *rules_dir.rglob("*.yml")]):
        parts = path.relative_to(rules_dir).parts
        if parts[0] in NOT_RULES or any(p.startswith(".") for p in parts) or parts == (SCORING_FILE,):
            continue
        found.append(path)
    return found


def _read_rules(rules_dir: Path, lists: ListStore) -> tuple[list[Rule], list[Issue]]:
    rules: list[Rule] = []
    issues: list[Issue] = []
    located_ids: list[tuple[str, str, int]] = []
    files = rule_files(rules_dir)
    if len(files) > MAX_RULE_FILES:
        return [], [Issue(str(rules_dir), None, f"more than {MAX_RULE_FILES} rule files")]
    for path in files:
        display = str(path)
        documents, found = load_yaml_documents(path, display)
        issues.extend(found)
        for doc in documents:
            if isinstance(doc, MarkedDict) and isinstance(doc.get("id"), str):
                located_ids.append((doc["id"], display, doc.line_of("id")))
            rule, found = parse_rule(doc, display, rules_dir, lists)
            issues.extend(found)
            if rule is not None:
                rules.append(rule)
    issues.extend(validators.duplicate_ids(located_ids))
    return rules, issues


def load_ruleset(rules_dir: Path, *, run_tests: bool = True) -> Ruleset:
    """Load and validate `rules_dir` (and run every rule's tests); raise RulesetError listing every error."""
    rules_dir = Path(rules_dir)
    if not rules_dir.is_dir():
        raise RulesetError([Issue(str(rules_dir), None, "not a folder")])
    thresholds, issues = load_thresholds(rules_dir / SCORING_FILE, str(rules_dir / SCORING_FILE))
    lists = ListStore(rules_dir / "lists")
    rules, found = _read_rules(rules_dir, lists)
    issues.extend(found)
    rules, found = validators.resolve_composites(rules)
    issues.extend(found)
    issues.extend(validators.identical_logic(rules))
    issues.extend(validators.composite_members(rules))
    if thresholds is not None:
        issues.extend(validators.unknown_groups(rules, thresholds))
    if not rules and not errors_only(issues):
        issues.append(Issue(str(rules_dir), None, "no rules found"))
    if thresholds is None:
        raise RulesetError(issues)
    ruleset = Ruleset(rules, thresholds, ruleset_version(rules_dir), warnings=issues)
    # The valid rules' tests run even when other rules are broken, so one check shows every error.
    failures = run_rule_tests(ruleset) if run_tests else []
    if errors_only(issues) or failures:
        raise RulesetError([*issues, *failures])
    return ruleset
