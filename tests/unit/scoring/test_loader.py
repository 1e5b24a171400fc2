import re
from pathlib import Path

import pytest

from service.scoring import RulesetError, load_ruleset
from tests.unit.scoring.conftest import FILES


def broken_issues() -> list[str]:
    with pytest.raises(RulesetError) as caught:
        load_ruleset(FILES / "broken")
    return [str(i) for i in caught.value.issues if i.severity == "error"]


def test_every_error_is_reported_at_once_with_file_and_line() -> None:
    a = "tests/files/scoring/broken/a.yaml"
    b = "tests/files/scoring/broken/b.yaml"
    issues = [i.replace(str(FILES.parent.parent.parent) + "/", "") for i in broken_issues()]
    expected = [
        f"{a}:7: duplicate key 'score' (first at line 6)",
        f"{a}:12: condition: undefined name 'sel_missing'",
        f"{a}:27: selection 'unused' is never used by the condition",
        f"{b}:16: selection 'unknown': unknown field 'sender.shoe_size'",
        f"{b}:18: selection 'empty': keywords: empty list",
        f"{b}:20: selection 'emptylist': list 'empty' is empty",
        f"{b}:26: rule 'bad.notests' has no tests",
    ]
    for line in expected:
        assert any(line in issue for issue in issues), line
    assert any(":17: duplicate rule id 'bad.one' (first at " in i and i.endswith("a.yaml:1)") for i in issues)
    assert any("bad.twin-b' has the same logic as 'bad.twin-a'" in i and ":55:" in i for i in issues)
    assert len(issues) == 12


def test_regex_that_re2_refuses_is_an_error_with_its_line() -> None:
    issues = broken_issues()
    assert any(":10: selection 'backref': regex refused by RE2" in i for i in issues)
    assert any(":12: selection 'lookaround': regex refused by RE2" in i for i in issues)


def write_rule(folder: Path, body: str) -> None:
    (folder / "scoring.yaml").write_text(
        "levels: {low: 0, medium: 4, high: 8, critical: 15}\n"
        "lanes: {critical: urgent, high: review, medium: watch, low: none}\n",
        encoding="utf-8",
    )
    (folder / "r.yaml").write_text(body, encoding="utf-8")


RULE = """id: r.one
title: t
description: d
status: stable
level: low
score: 1
group: g
detection:
  s:
    text|keywords: [hello]
  condition: s
tests:
  match: [hello, "HELLO there"]
  no_match: [{NO}, othello]
"""


def test_failing_rule_test_refuses_the_set(tmp_path: Path) -> None:
    write_rule(tmp_path, RULE.replace("{NO}", "say hello"))
    with pytest.raises(RulesetError) as caught:
        load_ruleset(tmp_path)
    assert [str(i).split(": ", 1)[1] for i in caught.value.issues] == [
        "test failed: r.one matched a no_match sample 'say hello' (low)"
    ]
    assert caught.value.issues[0].line == 14
    assert load_ruleset(tmp_path, run_tests=False).rules[0].id == "r.one"


def test_unknown_keys_fields_and_operators(tmp_path: Path) -> None:
    body = RULE.replace("{NO}", "bye").replace("group: g", "group: g\nseverity: 3")
    body = body.replace("text|keywords: [hello]", "text|keywords: [hello]\n    sender.age_days|keywords: [x]")
    write_rule(tmp_path, body)
    with pytest.raises(RulesetError) as caught:
        load_ruleset(tmp_path)
    messages = [i.message for i in caught.value.issues]
    assert "unknown rule key 'severity'" in messages
    assert any(
        m.startswith("selection 's': operator 'keywords' does not apply to number field") for m in messages
    )


def test_scoring_file_problems_are_located(tmp_path: Path) -> None:
    write_rule(tmp_path, RULE.replace("{NO}", "bye"))
    (tmp_path / "scoring.yaml").write_text("levels: {low: 0, medium: 9, high: 8, critical: 15}\n", "utf-8")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(tmp_path)
    messages = {i.message for i in caught.value.issues}
    assert "levels: thresholds must rise low → critical" in messages
    assert any(m.startswith("lanes:") for m in messages)


def test_rule_group_must_be_declared_when_groups_are(tmp_path: Path) -> None:
    write_rule(tmp_path, RULE.replace("{NO}", "bye"))
    with (tmp_path / "scoring.yaml").open("a", encoding="utf-8") as handle:
        handle.write("groups:\n  other: {max_score: 3}\n")
    with pytest.raises(RulesetError, match="group 'g' is not declared"):
        load_ruleset(tmp_path)


def test_lists_outside_the_folder_and_missing_folder(tmp_path: Path) -> None:
    write_rule(tmp_path, RULE.replace("{NO}", "bye").replace("text|keywords: [hello]", "text|in_list: ../r"))
    with pytest.raises(RulesetError, match=re.escape("no list '../r'")):
        load_ruleset(tmp_path)
    with pytest.raises(RulesetError, match="not a folder"):
        load_ruleset(tmp_path / "nope")


def test_catastrophic_regex_is_refused_even_though_re2_would_run_it() -> None:
    issues = broken_issues()
    assert any(
        ":14: selection 'catastrophic': regex refused: nested unbounded quantifier" in i for i in issues
    )


def test_valid_rules_are_tested_even_when_others_are_broken(tmp_path: Path) -> None:
    failing = RULE.replace("{NO}", "say hello")
    broken = RULE.replace("r.one", "r.two").replace("{NO}", "bye").replace("condition: s", "condition: t")
    write_rule(tmp_path, failing + "---\n" + broken)
    with pytest.raises(RulesetError) as caught:
        load_ruleset(tmp_path)
    messages = [i.message for i in caught.value.issues]
    assert "condition: undefined name 't'" in messages
    assert "test failed: r.one matched a no_match sample 'say hello' (low)" in messages
