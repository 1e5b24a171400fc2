from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from service.parsing.entities import MAX_ITEMS, MAX_TEXT_CHARS, extract_entities

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parents[2] / "files" / "text" / "entities.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=[case["text"][:40] for case in CASES])
def test_entities(case: dict[str, Any]) -> None:
    text = case["text"]
    found = extract_entities(text)
    if "phones" in case:
        assert [p.value for p in found.phones] == case["phones"]
    if "bank_accounts" in case:
        assert [[a.number, a.bank] for a in found.bank_accounts] == case["bank_accounts"]
    if "urls" in case:
        assert [[u.value, u.shortener] for u in found.urls] == case["urls"]
    if "emails" in case:
        assert [e.value for e in found.emails] == case["emails"]
    if "handles" in case:
        assert [[h.platform, h.handle] for h in found.handles] == case["handles"]
    if "crypto_wallets" in case:
        assert [[w.value, w.kind] for w in found.crypto_wallets] == case["crypto_wallets"]


def test_spans_point_into_the_original() -> None:
    text = "Gọi 0961.234.567, STK 0071001234567 Vietcombank, xem bit.ly/x1 hoặc mail a.b@vcb.vn"
    found = extract_entities(text)
    assert text[slice(*found.phones[0].span)] == "0961.234.567"
    assert text[slice(*found.bank_accounts[0].span)] == "0071001234567"
    assert text[slice(*found.urls[0].span)] == "bit.ly/x1"
    assert text[slice(*found.emails[0].span)] == "a.b@vcb.vn"


def test_url_host_is_lowercase_and_trailing_punctuation_trimmed() -> None:
    url = extract_entities("Vao HTTPS://Bit.LY/AbC).").urls[0]
    assert url.value == "HTTPS://Bit.LY/AbC"
    assert url.host == "bit.ly"
    assert url.shortener


def test_work_is_bounded() -> None:
    many = " ".join(f"09{n:08d}" for n in range(10_000_000, 10_000_000 + MAX_ITEMS * 3))
    found = extract_entities(many)
    assert len(found.phones) == MAX_ITEMS
    assert not found.truncated
    long = extract_entities("x" * (MAX_TEXT_CHARS + 1) + " 0961234567")
    assert long.truncated
    assert long.phones == []


def test_to_dict_is_json_ready() -> None:
    data = extract_entities("STK 0071001234567 Vietcombank").to_dict()
    assert data["bank_accounts"] == [{"number": "0071001234567", "span": (4, 17), "bank": "Vietcombank"}]
    kinds = {"phones", "urls", "emails", "bank_accounts", "handles", "crypto_wallets"}
    assert set(data) == kinds | {"truncated"}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 .-+@:/abcTđĐàSTKstkzalo\u200b\n"), max_size=120))
def test_never_raises_and_spans_are_inside(text: str) -> None:
    found = extract_entities(text)
    spans = [p.span for p in found.phones] + [u.span for u in found.urls] + [e.span for e in found.emails]
    spans += [a.span for a in found.bank_accounts] + [h.span for h in found.handles]
    spans += [w.span for w in found.crypto_wallets]
    for start, end in spans:
        assert 0 <= start < end <= len(text)
