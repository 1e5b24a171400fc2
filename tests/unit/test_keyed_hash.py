"""Keyed hashes are stored and joined on: a faster HMAC must give every stored hash back unchanged."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from service.campaigns.indicators import keyed_hash, victim_hash


@pytest.mark.parametrize("key_length", [1, 16, 32, 63, 64, 65, 200])
def test_keyed_hash_is_hmac_sha256_of_kind_and_value_for_any_key_length(key_length: int) -> None:
    key = bytes(range(256))[:key_length]
    for value in ("84912345678", "https://vi-du.example/đăng-nhập", ""):
        expected = hmac.new(key, f"sender:{value}".encode(), hashlib.sha256).hexdigest()[:32]
        assert keyed_hash(key, "sender", value) == expected


def test_one_key_never_answers_for_another() -> None:
    assert keyed_hash(b"a" * 32, "url", "x") != keyed_hash(b"b" * 32, "url", "x")


def test_a_victim_number_hashes_alike_in_its_national_and_international_forms() -> None:
    key = b"k" * 32
    assert victim_hash("0912 345 678", key=key) == victim_hash("+84912345678", key=key)
    assert victim_hash("0912345678", key=key) == keyed_hash(key, "victim", "84912345678")
    assert victim_hash(None, key=key) is None
