"""One Received line at a time: each MTA family's format, and the lines that name no relay."""

import pytest

from service.parsing.email.chain import parse_date
from service.parsing.email.received import SKIPPED, Skip, parse_received
from service.parsing.email.received_post import RelayFields

FORMATS = [
    pytest.param(
        b"from out.shop.example.org (out.shop.example.org [81.2.69.160]) (using TLSv1.3) "
        b"by mx1.example.net (Postfix) with ESMTPS id 4F3A21C0042 for <an@example.net>; "
        b"Tue,  2 Jan 2024 10:00:04 +0700 (+07)",
        {"ip": "81.2.69.160", "rdns": "out.shop.example.org", "helo": "out.shop.example.org",
         "by": "mx1.example.net", "id": "4F3A21C0042", "auth": ""},
        id="postfix",
    ),
    pytest.param(
        b"from pc (unknown [175.16.199.7]) by mx.example.net (Postfix) with SMTP id AB12",
        {"ip": "175.16.199.7", "rdns": "", "helo": "pc", "by": "mx.example.net"},
        id="postfix-unknown-rdns",
    ),
    pytest.param(
        b"from laptop (dsl-1.example.com [89.160.20.112] (may be forged)) (authenticated bits=0) "
        b"by smtp.example.org (8.15.2/8.15.2) with ESMTPSA id 1AB2cD3e004567; Wed, 3 Jan 2024 09:15:00 +0100",
        {"ip": "89.160.20.112", "rdns": "dsl-1.example.com", "helo": "laptop", "by": "smtp.example.org",
         "id": "1AB2cD3e004567", "auth": "ESMTPSA"},
        id="sendmail-auth",
    ),
    pytest.param(
        b"from ran-out.example.com (IDENT:qmailr@one.example.com [81.2.69.142]) by dogma.example.org "
        b"(8.11.6/8.11.6) with SMTP id h381Vvf19860",
        {"ip": "81.2.69.142", "rdns": "one.example.com", "ident": "qmailr", "helo": "ran-out.example.com"},
        id="sendmail-ident",
    ),
    pytest.param(
        b"from mx.example.net ([175.16.199.5] helo=relay.example.com) by inbound.example.net with esmtps "
        b"(TLS1.3) (Exim 4.96) (envelope-from <bounce@relay.example.com>) id 1qNQKH-0002JZ-JH",
        {"ip": "175.16.199.5", "rdns": "mx.example.net", "helo": "relay.example.com",
         "by": "inbound.example.net",
         "envfrom": "bounce@relay.example.com", "id": "1qNQKH-0002JZ-JH"},
        id="exim-helo",
    ),
    pytest.param(
        b"from [81.2.69.192] (port=36573 helo=kkijiusnucz ident=joe) by relay.example.com with esmtp "
        b"(Exim 4.94.2) id 1qNQKF-0001AB-CD",
        {"ip": "81.2.69.192", "helo": "kkijiusnucz", "ident": "joe", "by": "relay.example.com"},
        id="exim-ident",
    ),
    pytest.param(
        b"from unknown (HELO webmail.example.in) (joe@182.74.196.30) by mail.example.in with SMTP; "
        b"6 Aug 2024 00:02:17 -0000",
        {"ip": "182.74.196.30", "rdns": "", "helo": "webmail.example.in", "ident": "joe",
         "by": "mail.example.in"},
        id="qmail",
    ),
    pytest.param(
        b"from AS9PR05CA0055.eurprd05.prod.outlook.com (2603:10a6:20b:489::6) by "
        b"BN0PR19MB6312.namprd19.prod.outlook.com (2603:10b6:408:e6::28) with Microsoft SMTP Server "
        b"(version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.6631.29",
        {"ip": "2603:10a6:20b:489::6", "helo": "AS9PR05CA0055.eurprd05.prod.outlook.com",
         "by": "BN0PR19MB6312.namprd19.prod.outlook.com"},
        id="exchange-ipv6",
    ),
    pytest.param(
        b"from ex02.corp.example ([fe80::19bd:c588:dd17:5226%6]) by ex01.corp.example "
        b"([fe80::19bd:c588:dd17:5226%6]) with mapi id 15.20.1943.023",
        {"ip": "fe80::19bd:c588:dd17:5226", "helo": "ex02.corp.example", "by": "ex01.corp.example", "id": ""},
        id="exchange-zone-id",
    ),
    pytest.param(
        b"from laptop ([IPv6:::ffff:89.160.20.112]) by smtp.gmail.com with ESMTPSA id x12sm3.1.2024 "
        b"(version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256)",
        {"ip": "89.160.20.112", "helo": "laptop", "by": "smtp.gmail.com", "auth": "ESMTPSA"},
        id="gmail-ipv4-mapped",
    ),
    pytest.param(
        b"from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com "
        b"with SMTPS id h21sor5485666ote.6.2024.01.08.05.06.07 for <v@gmail.com> (Google Transport Security)",
        {"ip": "209.85.220.41", "rdns": "mail-sor-f41.google.com", "by": "mx.google.com"},
        id="gmail-mx",
    ),
    pytest.param(
        b"from [89.160.20.112] by web12345.mail.ne1.yahoo.com via HTTP; Wed, 12 Feb 2003 14:22:21 PST",
        {"ip": "89.160.20.112", "by": "web12345.mail.ne1.yahoo.com"},
        id="yahoo-webmail",
    ),
    pytest.param(
        b"from itrq (someone@89.160.20.112 with login) by smtp111.mail.ne1.yahoo.com with SMTP; "
        b"17 Jan 2011 08:23:27 -0800 PST",
        {"ip": "89.160.20.112", "helo": "itrq", "by": "smtp111.mail.ne1.yahoo.com"},
        id="yahoo-smtp-login",
    ),
    pytest.param(
        b"from mail.example.vn (LHLO mail.example.vn) (10.10.0.5) by mail.example.vn with LMTP",
        {"ip": "10.10.0.5", "rdns": "mail.example.vn", "helo": "mail.example.vn", "by": "mail.example.vn"},
        id="zimbra-lmtp",
    ),
    pytest.param(
        b"from [10.0.0.7] (office-gw.example.com [89.160.20.128]) by roaming.example.com (8.15.2/8.15.2) "
        b"with ESMTP id 00AA11bb001122",
        {"ip": "89.160.20.128", "helo": "!10.0.0.7!", "rdns": "office-gw.example.com"},
        id="helo-ip-literal-never-wins",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("line", "expected"), FORMATS)
def test_each_format_yields_its_fields(line, expected):
    relay = parse_received(line)
    assert isinstance(relay, RelayFields)
    assert {key: getattr(relay, key) for key in expected} == expected


@pytest.mark.parametrize(
    "line",
    [
        b"(qmail 24889 invoked from network); 6 Aug 2024 00:02:17 -0000",
        b"(qmail 1234 invoked by uid 89); 6 Aug 2024 00:02:16 -0000",
        b"by out.shop.example.org (Postfix, from userid 1001) id 12AB34CD; Tue,  2 Jan 2024 03:00:03 +0000",
        b"from andrew by trinity.example.net with local (Exim 4.12) id 18xeL6-000Dn1-00",
        b"from mail pickup service by hotmail.com with Microsoft SMTPSVC; Tue, 16 Mar 2004 18:12:31 -0800",
    ],
)
def test_lines_that_name_no_relay_are_recognised(line):
    assert parse_received(line) is SKIPPED


def test_fetchmail_line_is_a_fetch_marker_not_a_relay():
    found = parse_received(
        b"from localhost [127.0.0.1] by laptop.home with POP3 (fetchmail-6.4.37) "
        b"for <an@localhost> (single-drop)"
    )
    assert isinstance(found, Skip)
    assert found.fetcher


@pytest.mark.parametrize(
    "line",
    [
        b"from vps.example.com (40.107.96.phishing@pot) by mx.example.net with ESMTP",
        b"from garbage",
        b"from a (b) c",
    ],
)
def test_unreadable_lines_return_none(line):
    assert parse_received(line) is None


@pytest.mark.parametrize(
    "tail",
    [
        b"Tue,  2 Jan 2024 10:00:04 +0700 (+07)",
        b"Tue, 2 Jan 2024 10:00:04 +0700",
        b"2 Jan 2024 10:00:04 +0700",
    ],
)
def test_dates_are_kept_for_the_chain(tail):
    relay = parse_received(
        b"from a.example (a.example [81.2.69.160]) by b.example (Postfix) with ESMTP id X1; " + tail
    )
    assert isinstance(relay, RelayFields)
    assert relay.by == "b.example"
    when = parse_date(relay.date)
    assert when is not None
    assert when.isoformat() == "2024-01-02T10:00:04+07:00"


def test_very_long_line_is_bounded():
    relay = parse_received(b"from a (b [81.2.69.160]) by c (Postfix) with ESMTP id " + b"x" * 200_000)
    assert isinstance(relay, RelayFields)
    assert relay.ip == "81.2.69.160"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Tue, 2 Jan 2024 10:00:04 +0700 (+07)", "2024-01-02T10:00:04+07:00"),
        ("22 Dec 2023 14:52:45 -0000", "2023-12-22T14:52:45+00:00"),
        ("Mon, 04 Sep 2023 21:11:24.404 +0000 (UTC)", "2023-09-04T21:11:24+00:00"),
        ("Wed, 12 Feb 2003 14:22:21 PST", "2003-02-12T14:22:21-08:00"),
        ("Sun, 31 Feb 2024 10:00:00 +0000", None),
        ("not a date", None),
    ],
)
def test_date_forms(text, iso):
    when = parse_date(text)
    assert (when.isoformat() if when else None) == iso
