"""Whole emails, one per Received format: relays, trust, origin and provider IP.

The expected chains are what SpamAssassin 4.0.1 (sa_relays.sh --all --orig-hdrs) prints for these
same fixtures, so each test pins agreement with the reference on that format.
"""

import pytest

from service.parsing.email import TrustConfig, parse_email

# fixture -> [(ip, trusted)] newest first, as SpamAssassin lists them (with originating-IP headers)
SPAMASSASSIN_CHAINS = {
    "postfix.eml": [("127.0.0.1", True), ("81.2.69.160", False)],
    "sendmail.eml": [("89.160.20.112", True), ("89.160.20.128", False)],
    "exim.eml": [("175.16.199.5", False), ("81.2.69.192", False)],
    "qmail.eml": [("182.74.196.30", False)],
    "exchange_ipv6.eml": [
        ("::1", True),
        ("2603:10a6:20b:489::6", False),
        ("2603:10a6:20b:489:cafe::e3", False),
        ("175.16.199.10", False),
        ("fe80::19bd:c588:dd17:5226", False),
        ("89.160.20.112", False),
    ],
    "gmail.eml": [("209.85.220.41", False), ("89.160.20.112", False)],
    "yahoo.eml": [("66.163.184.190", False), ("89.160.20.112", False), ("89.160.20.112", False)],
    "zimbra.eml": [("10.10.0.5", True), ("127.0.0.1", True), ("127.0.0.1", True), ("14.225.1.9", False)],
    "fetchmail.eml": [("81.2.69.142", False)],
}


@pytest.mark.parametrize(("name", "chain"), SPAMASSASSIN_CHAINS.items())
def test_chain_and_trust_match_spamassassin(eml, name, chain):
    parsed = parse_email(eml(name))
    assert [(r.ip, r.trusted) for r in parsed.relays] == chain


@pytest.mark.parametrize(
    ("name", "origin_ip"),
    [
        ("postfix.eml", "81.2.69.160"),
        ("sendmail.eml", "89.160.20.128"),
        ("exim.eml", "81.2.69.192"),
        ("qmail.eml", "182.74.196.30"),
        ("exchange_ipv6.eml", "89.160.20.112"),  # X-Originating-IP behind the link-local MAPI hop
        ("gmail.eml", "89.160.20.112"),
        ("yahoo.eml", "89.160.20.112"),
        ("zimbra.eml", "14.225.1.9"),
        ("fetchmail.eml", "81.2.69.142"),
    ],
)
def test_origin_is_the_deepest_untrusted_public_hop(eml, name, origin_ip):
    parsed = parse_email(eml(name))
    assert parsed.origin_ip == origin_ip
    assert parsed.origin_rule.startswith("deepest untrusted public hop")


def test_originating_header_hop_is_named_by_its_source(eml):
    parsed = parse_email(eml("exchange_ipv6.eml"))
    assert parsed.relays[-1].source == "x-originating-ip"
    assert parsed.origin_rule == "deepest untrusted public hop (x-originating-ip)"


def test_provider_ip_comes_from_the_receiving_sides_stamp(eml):
    parsed = parse_email(eml("exchange_ipv6.eml"))
    assert parsed.provider == "outlook"
    assert parsed.provider_ip == "175.16.199.10"
    assert parsed.provider_ip_rule == "authentication-results: sender IP"


def test_provider_ip_from_the_profile_when_nothing_is_stamped(eml):
    parsed = parse_email(eml("gmail.eml"))
    assert parsed.provider == "gmail"
    # Gmail to Gmail: the first host outside Google is the sender's own client, via submission
    assert parsed.provider_ip == "89.160.20.112"
    assert parsed.provider_ip_rule == "provider profile: gmail"


def test_provider_hops_can_be_trusted_for_forwarded_reports(eml):
    parsed = parse_email(eml("exchange_ipv6.eml"), trust=TrustConfig(trust_provider_hops=True))
    assert [r.trusted for r in parsed.relays[:4]] == [True, True, True, False]


def test_configured_trusted_networks_replace_inference(eml):
    config = TrustConfig(trusted_networks=("81.2.69.0/24",))
    parsed = parse_email(eml("exim.eml"), trust=config)
    # 175.16.199.5 is not in the configured network: trust stops at the first hop, as in SpamAssassin
    assert [r.trusted for r in parsed.relays] == [False, False]
    parsed = parse_email(eml("postfix.eml"), trust=config)
    assert [r.trusted for r in parsed.relays] == [True, True]
    assert parsed.origin_ip is None
    assert parsed.origin_rule == "no untrusted public hop"


def test_unknown_provider_profile_is_refused():
    with pytest.raises(ValueError, match="unknown provider"):
        TrustConfig(providers=("nope",))


def test_relay_to_dict_uses_with_key(eml):
    relay = parse_email(eml("postfix.eml")).relays[1].to_dict()
    assert relay["with"] == "ESMTPS"
    assert relay["date"] == "2024-01-02T10:00:04+07:00"
    assert relay["rdns"] == "out.shop.example.org"


def test_provider_found_below_local_fetch_hops():
    raw = (
        b"Received: from localhost [127.0.0.1] by laptop.home with IMAP (fetchmail-6.4.37) "
        b"for <a@localhost>\r\n"
        b"Received: from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com "
        b"with SMTPS id x1; Mon, 08 Jan 2024 05:06:07 -0800\r\n"
        b"Received: from pc.example.net (pc.example.net [89.160.20.112]) by mail-sor-f41.google.com "
        b"with ESMTP id x2; Mon, 08 Jan 2024 05:06:06 -0800\r\n"
        b"From: a@gmail.com\r\nSubject: x\r\n\r\nbody"
    )
    parsed = parse_email(raw)
    assert parsed.provider == "gmail"
    assert parsed.provider_ip == "89.160.20.112"


def test_leading_blank_lines_of_a_pasted_report_are_skipped(eml):
    parsed = parse_email(b"\r\n\r\n" + eml("postfix.eml"))
    assert parsed.subject == "Your January offers"


def test_unreadable_and_relay_less_lines_are_counted_apart():
    raw = (
        b"Received: from virtual-access.example by bolero.example ; Thu, 20 Feb 2003 23:32:58 +0100\r\n"
        b"Received: from garbage\r\n"
        b"Received: from a.example (a.example [81.2.69.160]) by b.example (Postfix) with ESMTP id X\r\n"
        b"From: a@example.com\r\nSubject: x\r\n\r\nbody"
    )
    parsed = parse_email(raw)
    assert parsed.unparsed_received == 1  # the relay-less first line is recognised, not unreadable
    assert [r.ip for r in parsed.relays] == ["81.2.69.160"]
    assert "1 Received header(s) could not be parsed" in parsed.defects


def test_qmail_scanner_line_gives_its_envelope_sender_to_the_next_hop():
    raw = (
        b"Received: from 156.56.111.196 by blazing.example.org (envelope-from <news@lists.example.org>, "
        b"uid 502) with qmail-scanner-1.24 (clamdscan: 0.80/594. Clear:RC:0(156.56.111.196):.); "
        b"06 Feb 2005 21:11:38 -0000\r\n"
        b"Received: from lists.example.org (HELO parrot.example.org) (156.56.111.196) by blazing.example.org "
        b"with (DHE-RSA-AES256-SHA encrypted) SMTP; 6 Feb 2005 21:11:37 -0000\r\n"
        b"From: a@example.com\r\nSubject: x\r\n\r\nbody"
    )
    (relay,) = parse_email(raw).relays
    assert (relay.ip, relay.rdns, relay.helo, relay.envfrom) == (
        "156.56.111.196",
        "lists.example.org",
        "parrot.example.org",
        "news@lists.example.org",
    )
