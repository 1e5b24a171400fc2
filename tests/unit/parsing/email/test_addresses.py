"""Address headers: strict structure first, display names decoded after (CVE-2023-27043)."""

import pytest

from service.parsing.email import parse_email
from service.parsing.email.addresses import parse_address_list


def parse(value: str, defects: list[str] | None = None):
    return parse_address_list(
        value, field="From", max_addresses=100, max_words=50, defects=defects if defects is not None else []
    )


@pytest.mark.parametrize(
    "value",
    [
        "alice@example.org)<bob@example.org>",
        "alice@example.org>",
        "<bob@example.org",
        '"unterminated <bob@example.org>',
        "(unclosed comment bob@example.org",
        "<a@example.org> <b@example.org>",
        "<<bob@example.org>>",
    ],
)
def test_unbalanced_addresses_yield_no_sender(value):
    defects: list[str] = []
    assert parse(value, defects) == []
    assert defects
    assert defects[0].startswith("unparseable")


def test_cve_2023_27043_email_has_no_trusted_sender(eml):
    parsed = parse_email(eml("cve_2023_27043.eml"))
    assert parsed.from_ is None
    assert parsed.reply_to == []
    assert "from_unparseable" in [a.code for a in parsed.anomalies]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bob@Example.ORG", (None, "bob@example.org", "example.org")),
        ("Bob <bob@example.org>", ("Bob", "bob@example.org", "example.org")),
        ('"Doe, John" <john@example.org>', ("Doe, John", "john@example.org", "example.org")),
        ("john@example.org (John Doe)", ("John Doe", "john@example.org", "example.org")),
        ("<@relay.example:john@example.org>", (None, "john@example.org", "example.org")),
        ('"a\\"b" <x@example.org>', ('a"b', "x@example.org", "example.org")),
        (
            "=?UTF-8?B?UGjDsm5nIE5ow6JuIHPhu7E=?= <hr@example.vn>",
            ("Phòng Nhân sự", "hr@example.vn", "example.vn"),
        ),
        ('"=?utf-8?q?Ng=C3=A2n_h=C3=A0ng?=" <nh@example.vn>', ("Ngân hàng", "nh@example.vn", "example.vn")),
    ],
)
def test_valid_forms(value, expected):
    (address,) = parse(value)
    assert (address.display_name, address.addr_spec, address.domain) == expected


def test_encoded_display_name_cannot_inject_structure():
    # the encoded word decodes to '<evil@x.example>' but only after the structure was read
    (address,) = parse("=?utf-8?q?=3Cevil=40x.example=3E?= <real@example.org>")
    assert address.addr_spec == "real@example.org"
    assert address.display_name == "<evil@x.example>"


def test_lists_and_groups():
    found = parse("a@example.org, B <b@example.net>;c@example.com")
    assert [a.addr_spec for a in found] == ["a@example.org", "b@example.net", "c@example.com"]
    found = parse("undisclosed-recipients: x@example.org, y@example.org;")
    assert [a.addr_spec for a in found] == ["x@example.org", "y@example.org"]


@pytest.mark.parametrize("value", ["not an address", "a@", "@b.example", "a@b..example", "a b@c.example"])
def test_invalid_addr_specs_are_dropped(value):
    defects: list[str] = []
    assert parse(value, defects) == []
    assert defects


def test_to_dict():
    (address,) = parse("Bob <bob@example.org>")
    assert address.to_dict() == {
        "display_name": "Bob",
        "addr_spec": "bob@example.org",
        "domain": "example.org",
    }
