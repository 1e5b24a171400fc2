"""Authentication-Results (RFC 8601, Microsoft's form) and Received-SPF."""

import pytest

from service.parsing.email import parse_email
from service.parsing.email.auth_results import (
    authentication_findings,
    parse_authentication_results,
    parse_received_spf,
)


def test_microsoft_form_without_authserv_id():
    verdicts, ip = parse_authentication_results(
        "spf=softfail (sender IP is 175.16.199.10) smtp.mailfrom=bank.example.com; dkim=none "
        "(message not signed) header.d=none;dmarc=fail action=none header.from=bank.example.com;compauth=fail"
    )
    assert verdicts == {"spf": "softfail", "dkim": "none", "dmarc": "fail"}
    assert ip == "175.16.199.10"


def test_rfc8601_form_first_result_per_method():
    verdicts, ip = parse_authentication_results(
        "mx.google.com; dkim=pass header.i=@example.com; dkim=fail header.i=@other.example; "
        "spf=pass (google.com: domain of a@example.com designates 209.85.220.41 as permitted sender) "
        "smtp.mailfrom=a@example.com; dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.com"
    )
    assert verdicts == {"dkim": "pass", "spf": "pass", "dmarc": "pass"}
    assert ip is None


def test_results_inside_comments_are_not_read():
    verdicts, _ = parse_authentication_results(
        "mx.google.com; arc=pass (i=1 spf=pass dkim=pass dmarc=pass fromdomain=x.example); "
        "spf=fail smtp.mailfrom=x"
    )
    assert verdicts == {"spf": "fail"}


def test_remote_ip_property():
    _, ip = parse_authentication_results("mailin.example.ch; arc=none smtp.remote-ip=81.2.69.160")
    assert ip == "81.2.69.160"


def test_damaged_sender_ip_is_not_guessed():
    _, ip = parse_authentication_results("spf=pass (sender IP is 172.81.117.phishing@pot) smtp.mailfrom=x")
    assert ip is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Pass (protection.outlook.com: domain of x designates 81.2.69.160 as permitted sender) "
         "receiver=protection.outlook.com; client-ip=81.2.69.160; helo=a.example;", ("pass", "81.2.69.160")),
        ("SoftFail (mx: transitioning) client-ip=2001:db8::1;", ("softfail", "2001:db8::1")),
        ("none", ("none", None)),
    ],
)  # fmt: skip
def test_received_spf(value, expected):
    assert parse_received_spf(value) == expected


def test_received_spf_only_used_without_authentication_results():
    findings = authentication_findings([], ["Fail client-ip=81.2.69.160;"])
    assert findings.auth.spf == "fail"
    assert findings.spf_client_ip == "81.2.69.160"
    findings = authentication_findings(["mx.example; dkim=pass"], ["Fail client-ip=81.2.69.160;"])
    assert findings.auth.spf is None
    assert findings.auth.dkim == "pass"


def test_only_the_topmost_header_counts(eml):
    parsed = parse_email(eml("exchange_ipv6.eml"))
    assert parsed.auth.to_dict() == {"spf": "softfail", "dkim": "none", "dmarc": "fail"}
    parsed = parse_email(eml("gmail.eml"))
    assert parsed.auth.to_dict() == {"spf": "pass", "dkim": "pass", "dmarc": "pass"}


def test_unknown_is_none(eml):
    parsed = parse_email(eml("postfix.eml"))
    assert parsed.auth.to_dict() == {"spf": None, "dkim": None, "dmarc": None}


def test_authentication_results_from_someone_else_is_flagged():
    raw = (
        b"Received: from out.example.org (out.example.org [81.2.69.160]) by mx.example.net (Postfix) "
        b"with ESMTP id X1; Mon, 1 Jan 2024 10:00:00 +0000\r\n"
        b"Authentication-Results: mx.evil.example; spf=pass smtp.mailfrom=bank.example; dkim=pass; "
        b"dmarc=pass\r\n"
        b"From: bank@bank.example\r\nSubject: x\r\nMessage-ID: <1@x>\r\n\r\nbody"
    )
    parsed = parse_email(raw)
    assert parsed.auth.spf == "pass"  # reported as read, but flagged: the receiving side did not write it
    assert [a.code for a in parsed.anomalies] == ["auth_results_unverified"]


@pytest.mark.parametrize("name", ["gmail.eml", "exchange_ipv6.eml", "postfix.eml"])
def test_receiving_sides_own_results_are_not_flagged(eml, name):
    assert "auth_results_unverified" not in [a.code for a in parse_email(eml(name)).anomalies]
