"""Many rules in one folder: the regex set path, shared atoms, and numeric lists."""

from pathlib import Path

from service.scoring import load_ruleset

SCORING = """levels: {low: 0, medium: 4, high: 8, critical: 15}
lanes: {critical: urgent, high: review, medium: watch, low: none}
"""


def regex_rule(index: int) -> str:
    return f"""id: rx.r{index}
title: regex {index}
description: d
status: stable
level: low
score: 1
group: g
detection:
  code:
    text|regex: 'code-{index}x[0-9]+'
  asn:
    origin.asn|in_list: asns
  condition: code or asn
tests:
  match: ["code-{index}x42", "see CODE-{index}X7 now"]
  no_match: ["code-{index}x", "code-{index}y1"]
"""


def test_forty_regex_rules_use_one_set_and_agree_with_single_searches(tmp_path: Path) -> None:
    (tmp_path / "scoring.yaml").write_text(SCORING, "utf-8")
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "asns.txt").write_text("# hosting\nAS64500\n64501 # another\n", "utf-8")
    (tmp_path / "rules.yaml").write_text("---\n".join(regex_rule(i) for i in range(40)), "utf-8")
    ruleset = load_ruleset(tmp_path)  # runs the 160 samples through the set
    assert ruleset._base._text._regex_sets  # more than 32 regexes on `text`: the set is in use
    result = ruleset.score({"text": "code-3x1 and code-39x2, code-4y"}, channel="sms")
    assert {h.rule for h in result.hits} == {"rx.r3", "rx.r39"}
    assert result.score == 2
    by_asn = ruleset.score({"origin.asn": 64501}, channel="email")
    assert len(by_asn.hits) == 40  # one shared atom wakes all 40 rules
    assert by_asn.hits[0].evidence[0].text == "64501"
    assert ruleset.score({"origin.asn": 64502}, channel="email").hits == ()


def test_regex_raw_searches_the_original_text(tmp_path: Path) -> None:
    (tmp_path / "scoring.yaml").write_text(SCORING, "utf-8")
    (tmp_path / "r.yaml").write_text(
        """id: raw.link
title: link
description: d
status: stable
level: low
score: 1
group: g
detection:
  link:
    text|regex_raw: '(?i)https?://[a-z0-9.-]+\\.app\\b'
  condition: link
tests:
  match: ["Mở HTTPS://Bank-Secure.app ngay", "http://x.app/login"]
  no_match: ["the app store", "https://example.apple"]
""",
        "utf-8",
    )
    ruleset = load_ruleset(tmp_path)
    text = "Vào ngay: HTTPS://Bank-Secure.app/đăng-nhập"
    evidence = ruleset.score({"text": text}, channel="sms").hits[0].evidence[0]
    assert evidence.text == "HTTPS://Bank-Secure.app"
    assert evidence.span is not None
    assert text[evidence.span[0] : evidence.span[1]] == evidence.text
