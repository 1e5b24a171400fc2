from __future__ import annotations

import asyncio

from service.auth.cache import KeyCache
from service.auth.service import Principal
from service.errors import Unauthorized

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


class CountedLookUp:
    """A look-up that holds until released, counting how often it ran."""

    def __init__(self, result: Principal | Exception = PRINCIPAL) -> None:
        self.calls = 0
        self.result = result
        self.release = asyncio.Event()

    async def __call__(self) -> Principal:
        self.calls += 1
        await self.release.wait()
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


async def _waiters(cache: KeyCache, look_up: CountedLookUp, count: int) -> list[asyncio.Task[Principal]]:
    tasks = [asyncio.create_task(cache.shared("tt_key", look_up)) for _ in range(count)]
    await asyncio.sleep(0)  # every caller is waiting now
    return tasks


def test_callers_of_an_expired_key_share_one_look_up() -> None:
    async def scenario() -> None:
        cache, look_up = KeyCache(5), CountedLookUp()
        tasks = await _waiters(cache, look_up, 20)
        look_up.release.set()
        assert await asyncio.gather(*tasks) == [PRINCIPAL] * 20
        assert look_up.calls == 1
        # Once it is answered, a later miss looks the key up again (the database has the last word).
        assert await cache.shared("tt_key", look_up) == PRINCIPAL
        assert look_up.calls == 2

    asyncio.run(scenario())


def test_a_refused_key_is_refused_to_every_waiter_and_looked_up_again_next_time() -> None:
    async def scenario() -> None:
        cache, look_up = KeyCache(5), CountedLookUp(Unauthorized("The API key is unknown or revoked."))
        tasks = await _waiters(cache, look_up, 3)
        look_up.release.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(result, Unauthorized) for result in results)
        look_up.result = PRINCIPAL
        assert await cache.shared("tt_key", look_up) == PRINCIPAL
        assert look_up.calls == 2

    asyncio.run(scenario())


def test_a_caller_that_goes_away_leaves_the_look_up_to_the_others() -> None:
    async def scenario() -> None:
        cache, look_up = KeyCache(5), CountedLookUp()
        first, second = await _waiters(cache, look_up, 2)
        first.cancel()
        await asyncio.sleep(0)
        look_up.release.set()
        assert await second == PRINCIPAL
        assert first.cancelled()
        assert look_up.calls == 1

    asyncio.run(scenario())
