from service.scoring import Ruleset, score_report


def rules_hit(ruleset: Ruleset, fields: dict[str, object], channel: str = "sms") -> dict[str, float | int]:
    return {h.rule: h.score for h in ruleset.score(fields, channel=channel).hits}


def test_keywords_are_diacritic_and_case_insensitive_and_word_bounded(good_ruleset: Ruleset) -> None:
    assert "test.kill" in rules_hit(good_ruleset, {"text": "tao GIET MAY"})
    assert "test.kill" in rules_hit(good_ruleset, {"text": "g.i.ế.t    m.à.y"})
    assert "test.kill" not in rules_hit(good_ruleset, {"text": "giết mấy con gà"})  # tones disagree
    assert "test.kill" not in rules_hit(good_ruleset, {"text": "giết máy"})
    assert "test.kill" in rules_hit(good_ruleset, {"text": "tao giết mầy"})  # dialect spelling, same tone
    assert "test.kill" in rules_hit(good_ruleset, {"text": "giêt mày"})  # a missing tone matches anything
    assert "test.shadow-word" not in rules_hit(good_ruleset, {"text": "bombay"})
    assert "test.shadow-word" in rules_hit(good_ruleset, {"text": "(bom)"})


def test_evidence_points_at_the_original_text(good_ruleset: Ruleset) -> None:
    text = "Nghe đây:  Tao sẽ GIẾT\n\nmày!"
    result = good_ruleset.score({"text": text}, channel="sms")
    hit = next(h for h in result.hits if h.rule == "test.kill")
    evidence = hit.evidence[0]
    assert evidence.field == "text"
    assert evidence.text == "GIẾT\n\nmày"
    assert evidence.span is not None
    assert text[evidence.span[0] : evidence.span[1]] == "GIẾT\n\nmày"
    assert hit.to_dict()["evidence"] == [
        {"field": "text", "text": "GIẾT\n\nmày", "span": list(evidence.span)}
    ]


def test_not_excludes_reports(good_ruleset: Ruleset) -> None:
    assert "test.kill" not in rules_hit(good_ruleset, {"text": "Công an cho biết hắn nhắn 'giết mày'"})


def test_regex_runs_on_the_normalised_text(good_ruleset: Ruleset) -> None:
    result = good_ruleset.score({"text": "Chuyển ngay TRONG 24 GIỜ"}, channel="sms")
    hit = next(h for h in result.hits if h.rule == "test.deadline")
    assert hit.evidence[0].text == "TRONG 24 GIỜ"


def test_shadow_rules_record_hits_and_add_nothing(good_ruleset: Ruleset) -> None:
    result = good_ruleset.score({"text": "quả bom"}, channel="sms")
    hit = next(h for h in result.hits if h.rule == "test.shadow-word")
    assert hit.shadow is True
    assert hit.score == 0
    assert result.score == 0
    assert result.level == "low"
    assert result.lane == "none"


def test_deprecated_rules_never_run(good_ruleset: Ruleset) -> None:
    assert "test.old" not in rules_hit(good_ruleset, {"text": "deprecatedword"})


def test_composite_consumes_its_members(good_ruleset: Ruleset) -> None:
    fields = {"text": "ACME Bank: locked", "sender.kind": "alphanumeric", "sender.smsc_record": False}
    result = good_ruleset.score(fields, channel="sms")
    hits = {h.rule: h for h in result.hits}
    assert hits["test.combo"].score == 9
    assert hits["test.fbs"].score == 0
    assert hits["test.fbs"].consumed_by == "test.combo"
    assert hits["test.brand"].consumed_by == "test.combo"
    assert result.score == 9
    assert result.level == "high"
    assert result.lane == "review"
    assert {e.field for e in hits["test.combo"].evidence} == {"text", "sender.kind", "sender.smsc_record"}


def test_group_cap_limits_the_sum(good_ruleset: Ruleset) -> None:
    result = good_ruleset.score({"text": "giết mày trong 2h"}, channel="sms")
    assert {h.rule for h in result.hits if h.score} == {"test.kill", "test.deadline"}
    assert result.score == 10  # 6 + 6 capped at the threat group's 10
    assert result.level == "high"


def test_channels_restrict_rules(good_ruleset: Ruleset) -> None:
    fields = {"sender.kind": "alphanumeric", "sender.smsc_record": False}
    assert "test.fbs" in rules_hit(good_ruleset, fields, "sms")
    assert "test.fbs" not in rules_hit(good_ruleset, fields, "email")


def test_unknown_facts_are_false_except_exists_false(good_ruleset: Ruleset) -> None:
    assert "test.fbs" not in rules_hit(
        good_ruleset, {"sender.kind": "alphanumeric", "sender.smsc_record": None}
    )
    assert "test.facts" in rules_hit(good_ruleset, {"sender.age_days": 1}, "email")
    assert "test.facts" not in rules_hit(good_ruleset, {"sender.age_days": 1, "auth.spf": "none"}, "email")
    assert "test.facts" not in rules_hit(
        good_ruleset, {"sender.age_days": "1"}, "email"
    )  # wrong type: unknown


def test_list_fields_and_domain_lists(good_ruleset: Ruleset) -> None:
    assert "test.facts" in rules_hit(
        good_ruleset, {"headers.anomalies": ["x", "display_name_brand"]}, "email"
    )
    assert "test.facts" in rules_hit(
        good_ruleset, {"entities.phones": ["1", "2"], "auth.spf": "pass"}, "email"
    )
    official = {"text": "Acme Bank", "sender.domain": "News.AcmeBank.example"}
    assert "test.brand" not in rules_hit(good_ruleset, official)
    assert "test.brand" in rules_hit(
        good_ruleset, {"text": "Acme Bank", "sender.domain": "acmebank.example.evil"}
    )


def test_score_report_and_to_dict(good_ruleset: Ruleset) -> None:
    result = score_report(good_ruleset, {"text": "kill you"}, channel="email")
    data = result.to_dict()
    assert data["score"] == 6
    assert data["level"] == "medium"
    assert data["version"] == good_ruleset.version
    assert data["hits"][0]["rule"] == "test.kill"  # type: ignore[index]


def test_hostile_text_is_bounded(good_ruleset: Ruleset) -> None:
    text = ("giết mày " * 30_000) + "a" * 300_000 + "\u200b" * 1000
    result = good_ruleset.score({"text": text, "subject": None, "body": 42}, channel="sms")
    hit = next(h for h in result.hits if h.rule == "test.kill")
    assert len(hit.evidence) <= 10


def test_punctuation_around_and_inside_words_counts_as_space(good_ruleset: Ruleset) -> None:
    assert "test.kill" in rules_hit(good_ruleset, {"text": "(kill you)"})
    assert "test.kill" in rules_hit(good_ruleset, {"text": "…giết mày!!!"})
    assert "test.kill" not in rules_hit(good_ruleset, {"text": "skill youth"})
    assert "test.kill" not in rules_hit(good_ruleset, {"text": "giết, mày"})  # not one phrase any more
