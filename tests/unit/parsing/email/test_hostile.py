"""Hostile inputs, generated here: each must end in a parse error or an analysis flagged defective."""

import hashlib

import pytest

from service.parsing.email import EmailLimits, EmailParseError, parse_email

HEAD = (
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\nMessage-ID: <m@example.com>\r\n"
    b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
)


def deep_multipart(depth: int) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        for level in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % level for level in reversed(range(depth)))
    return HEAD + opening + b"Content-Type: text/plain\r\n\r\ndeepest text\r\n" + closing


def flat_multipart(parts: int) -> bytes:
    body = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(parts))
    return HEAD + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + body + b"--b--\r\n"


def test_thousand_deep_multipart_stops_at_the_depth_limit():
    parsed = parse_email(deep_multipart(1000))
    assert parsed.mime_parts == EmailLimits().max_depth
    assert any("deeper than 20" in d for d in parsed.defects)


def test_fifty_thousand_parts_stop_at_the_part_limit():
    parsed = parse_email(flat_multipart(50_000))
    assert parsed.mime_parts == 1000
    assert "more than 1000 MIME parts; the rest ignored" in parsed.defects
    assert parsed.body_text.startswith("part 0")


def test_subject_of_twenty_thousand_encoded_words_is_decoded_up_to_the_limit():
    words = b" ".join(b"=?utf-8?q?w%d?=" % i for i in range(20_000))
    parsed = parse_email(b"From: a@example.com\r\nSubject: " + words + b"\r\n\r\nbody\r\n")
    assert parsed.subject is not None
    assert parsed.subject.startswith("w0w1w2")
    assert len(parsed.subject) <= EmailLimits().max_header_value_chars
    assert any("encoded words" in d for d in parsed.defects)


def test_to_of_twenty_thousand_addresses_is_cut():
    addresses = b", ".join(b"u%d@example.com" % i for i in range(20_000))
    parsed = parse_email(b"From: a@example.com\r\nTo: " + addresses + b"\r\nSubject: x\r\n\r\nbody\r\n")
    assert len(parsed.to) == 100
    assert parsed.to[0].addr_spec == "u0@example.com"
    assert any("more than 100 addresses" in d for d in parsed.defects)


def test_unknown_and_bogus_charsets_are_defects_not_errors(eml):
    parsed = parse_email(eml("unknown_charset.eml"))
    assert "Claim your gift" in parsed.body_text
    assert "http://gift.example.com/claim" in parsed.urls
    assert any(d.startswith("unknown charset") for d in parsed.defects)
    assert parsed.subject == "Gift card"


def test_broken_base64_is_decoded_as_far_as_possible(eml):
    parsed = parse_email(eml("broken_base64.eml"))
    assert "broken base64" in parsed.defects
    assert parsed.body_text.startswith("Your package is on hold")
    assert [a.to_dict() for a in parsed.attachments] == [
        {
            "name": "label.pdf",
            "content_type": "application/pdf",
            "size": 9,
            "sha256": hashlib.sha256(b"%PDF-1.4\n").hexdigest(),
        }
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty input"),
        (b"   \r\n", "empty input"),
        (b"just some text, not an email\n", "no email headers"),
        (b"\x00\x01\x02binary", "no email headers"),
    ],
)
def test_inputs_that_are_not_emails_raise_the_parse_error(raw, message):
    with pytest.raises(EmailParseError, match=message):
        parse_email(raw)


def test_size_limit_raises_the_parse_error():
    with pytest.raises(EmailParseError, match="larger than 100 bytes"):
        parse_email(HEAD + b"\r\n" + b"x" * 200, limits=EmailLimits(max_bytes=100))


def test_parse_error_is_a_value_error():
    assert issubclass(EmailParseError, ValueError)


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="max_parts"):
        EmailLimits(max_parts=0)


def test_huge_header_section_is_cut_with_a_defect():
    raw = HEAD + b"X-Filler: " + b"a" * 5000 + b"\r\n"
    parsed = parse_email(raw, limits=EmailLimits(max_header_bytes=1000))
    assert any("header section longer" in d for d in parsed.defects)


def test_many_received_headers_are_bounded():
    hop = b"Received: from a.example (a.example [81.2.69.160]) by b.example (Postfix) with ESMTP id X\r\n"
    parsed = parse_email(hop * 500 + HEAD + b"\r\nbody")
    assert len(parsed.relays) == 100
    assert any("Received headers" in d for d in parsed.defects)


def test_encoded_words_spread_over_many_fields_share_one_budget():
    fields = b"".join(b"Keywords-%d: " % i + b"=?utf-8?q?a?= " * 150 + b"\r\n" for i in range(400))
    raw = b"From: a@example.com\r\n" + fields + b"Subject: =?utf-8?q?still_decoded?=\r\n\r\nbody"
    parsed = parse_email(raw)
    assert parsed.subject == "still decoded"
    assert "too many encoded words in the header; the rest left encoded" in parsed.defects
    assert parsed.headers[1] == ("Keywords-0", "a" * 150)


@pytest.mark.parametrize("markup", [b"<", b"<a>", b"<a href=x>", b"<!--", b"&amp;"])
def test_megabytes_of_markup_are_bounded(markup):
    raw = b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n" + markup * 1_000_000
    parsed = parse_email(raw)
    assert len(parsed.body_text) <= EmailLimits().max_text_per_part
    assert len(parsed.urls) <= EmailLimits().max_urls


@pytest.mark.parametrize("param", [b"a=b; ", b'a="b;"; ', b'"'])
def test_parts_with_huge_parameter_lists_are_bounded(param):
    part = b"--b\r\nContent-Type: text/plain; " + param * (8000 // len(param)) + b"\r\n\r\nx\r\n"
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        + part * 1000
        + b"--b--\r\n"
    )
    parsed = parse_email(raw)
    assert parsed.mime_parts == 1000


def test_truncated_megabyte_base64_attachment_is_decoded_as_far_as_possible():
    raw = (
        b"From: a@example.com\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b"QUFB\r\n" * 1_000_000
        + b"QU"
    )
    parsed = parse_email(raw)
    assert "broken base64" in parsed.defects
    assert parsed.attachments[0].size == 3_000_000


@pytest.mark.parametrize("markup", [b"<a>" * 3000, b'<a href="http://x.example/">' * 300, b"href" * 2500])
def test_a_thousand_html_parts_share_one_html_budget(markup):
    part = b"--b\r\nContent-Type: text/html\r\n\r\n" + markup + b"\r\n"
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        + part * 990
        + b"--b--\r\n"
    )
    parsed = parse_email(raw)
    assert parsed.mime_parts == 991
    assert any(d.startswith("HTML beyond") for d in parsed.defects)
