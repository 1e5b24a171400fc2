"""Charset labels, RFC 2047 words and IP normalisation."""

import pytest

from service.parsing.email.charsets import codec_for, decode_encoded_words, decode_text
from service.parsing.email.ipaddr import is_private_ip, is_public_ip, normalize_ip


@pytest.mark.parametrize(
    ("label", "codec"),
    [("UTF-8", "utf-8"), ('"utf8"', "utf-8"), ("us-ascii", "utf-8"), ("iso-8859-1", "cp1252"),
     ("ks_c_5601-1987", "cp949"), ("gb2312", "gb18030"), ("rot13", None), ("base64", None),
     ("[charse<!doctype html>", None), ("x-unknown-9", None)],
)  # fmt: skip
def test_codec_for_labels(label, codec):
    assert codec_for(label) == codec


def test_decode_text_falls_back_with_a_defect():
    defects: list[str] = []
    assert decode_text("đồng".encode(), "rot13", defects) == "đồng"
    assert defects == ["unknown charset 'rot13'"]


def test_split_multibyte_character_across_encoded_words_is_joined():
    # "ồ" (3 bytes in UTF-8) split over two words, as bug 7249 describes
    value = b"=?utf-8?q?=E1=BB?= =?utf-8?q?=93ng?="
    assert decode_encoded_words(value, 10, []) == "ồng"


def test_plain_text_between_words_is_kept():
    assert decode_encoded_words(b"Re: =?utf-8?b?xJHhu5NuZw==?= ok", 10, []) == "Re: đồng ok"


@pytest.mark.parametrize(
    ("token", "ip"),
    [("[81.2.69.160]", "81.2.69.160"), ("IPv6:2001:4f8:3:bb::25", "2001:4f8:3:bb::25"),
     ("fe80::19bd:c588:dd17:5226%6", "fe80::19bd:c588:dd17:5226"), ("::ffff:89.160.20.112", "89.160.20.112"),
     ("40.107.96.phishing@pot", None), ("999.1.1.1", None), ("12:34:56", None)],
)  # fmt: skip
def test_normalize_ip(token, ip):
    assert normalize_ip(token) == ip


def test_private_and_public():
    assert is_private_ip("10.1.2.3")
    assert is_private_ip("100.64.0.1")
    assert is_private_ip("::1")
    assert not is_private_ip("81.2.69.160")
    assert is_public_ip("2603:10a6:20b:489::6")
    assert not is_public_ip("192.0.2.1")  # documentation range: not on the internet
