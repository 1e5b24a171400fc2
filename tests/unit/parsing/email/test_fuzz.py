"""Fuzzing on a bounded budget: no exception but EmailParseError, whatever the bytes."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.parsing.email import EmailParseError, parse_email
from service.parsing.email.addresses import parse_address_list
from service.parsing.email.received import parse_received

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = st.sampled_from(
    [b"From", b"To", b"Reply-To", b"Return-Path", b"Subject", b"Date", b"Received", b"Message-ID",
     b"Content-Type", b"Content-Transfer-Encoding", b"Content-Disposition", b"Authentication-Results",
     b"Received-SPF", b"X-Originating-IP", b"X-Sender-IP", b"Sender"]
)  # fmt: skip
TOKENS = st.sampled_from(
    [b"from ", b"by ", b"with ", b"id ", b"(", b")", b"[", b"]", b"<", b">", b"@", b",", b";", b":", b'"',
     b"=?utf-8?b?", b"=?x-bogus?q?", b"?=", b"helo=", b"HELO ", b"81.2.69.160", b"::ffff:10.0.0.1",
     b"2603:10a6::1%6", b"multipart/mixed; boundary=b", b"--b", b"--b--", b"base64", b"quoted-printable",
     b"charset=", b"\r\n", b"\n ", b" ", b"\t", b"example.com", b"=", b"&amp;", b"<a href=", b"\xff\xfe"]
)  # fmt: skip
VALUES = st.lists(st.one_of(TOKENS, st.binary(max_size=12)), max_size=30).map(b"".join)


@st.composite
def emails(draw):
    headers = draw(st.lists(st.tuples(NAMES, VALUES), min_size=1, max_size=12))
    body = draw(st.lists(st.one_of(TOKENS, st.binary(max_size=40)), max_size=40).map(b"".join))
    return b"".join(name + b": " + value + b"\r\n" for name, value in headers) + b"\r\n" + body


def analyse(raw: bytes) -> None:
    try:
        parsed = parse_email(raw)
    except EmailParseError:
        return
    json.dumps(parsed.to_dict())


@FUZZ
@given(emails())
def test_structured_emails_never_raise_anything_else(raw):
    analyse(raw)


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes_never_raise_anything_else(raw):
    analyse(raw)


@FUZZ
@given(st.lists(st.one_of(TOKENS, st.binary(max_size=10)), max_size=40).map(b"".join))
def test_received_lines_never_raise(value):
    parse_received(b"from " + value)
    parse_received(value)


@FUZZ
@given(st.text(alphabet=st.sampled_from(list('ab@.<>()",;:\\ =?é')), max_size=80))
def test_address_lists_never_raise(value):
    defects: list[str] = []
    for address in parse_address_list(value, field="To", max_addresses=10, max_words=5, defects=defects):
        assert "@" in address.addr_spec
        assert address.domain == address.addr_spec.rsplit("@", 1)[1]
