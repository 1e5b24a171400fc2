from __future__ import annotations

from service.auth.cache import KeyCache
from service.auth.service import Principal

PRINCIPAL = Principal(1, 1, "operator", frozenset({"reports:write"}))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_live_key_is_remembered_until_its_ttl() -> None:
    clock = Clock()
    cache = KeyCache(5, clock=clock)
    assert cache.get("tt_key") is None
    cache.put("tt_key", PRINCIPAL)
    clock.now += 4.9
    assert cache.get("tt_key") == PRINCIPAL
    clock.now += 0.2
    assert cache.get("tt_key") is None


def test_ttl_zero_disables_the_cache() -> None:
    cache = KeyCache(0)
    cache.put("tt_key", PRINCIPAL)
    assert cache.get("tt_key") is None


def test_keys_are_held_by_hash_only() -> None:
    cache = KeyCache(5)
    cache.put("tt_secret", PRINCIPAL)
    assert "tt_secret" not in repr(cache._entries)
