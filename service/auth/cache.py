"""A short-lived in-process cache of authenticated keys.

Every report needs its key checked, and a database round trip for that costs as much as storing the report.
Live keys are remembered for `ttl` seconds (AUTH_CACHE_SECONDS), so a revoked key stops working on every API
process within that time. Unknown keys are never cached: a key created a moment ago works at once.

When a busy key's entry expires, every request in flight with it misses at once; `shared` lets them wait for
one look-up instead of each taking a worker thread and a database connection of its own (under
bench/ingest.py's 32 connections, such a herd every five seconds was 4 % of the API process's samples).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

from service.auth.service import Principal, hash_key

MAX_ENTRIES = 10_000


class KeyCache:
    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()
        self._lookups: dict[str, asyncio.Future[Principal]] = {}

    def get(self, key: str) -> Principal | None:
        """The cached principal for a live key, or None when unknown or expired."""
        if self.ttl <= 0:
            return None
        entry = self._entries.get(hash_key(key))
        if entry is None or entry[1] <= self.clock():
            return None
        return entry[0]

    def put(self, key: str, principal: Principal) -> None:
        """Remember a key that just authenticated."""
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[hash_key(key)] = (principal, self.clock() + self.ttl)

    async def shared(self, key: str, look_up: Callable[[], Awaitable[Principal]]) -> Principal:
        """`look_up()`'s principal for `key`, run once for all the callers that ask while it runs.

        Its failure (an unknown or revoked key) is every waiter's. A waiter that is cancelled (its client
        went away) leaves the look-up running for the others.
        """
        digest = hash_key(key)
        lookup = self._lookups.get(digest)
        if lookup is None:
            lookup = asyncio.ensure_future(look_up())
            self._lookups[digest] = lookup
            lookup.add_done_callback(lambda done: self._finished(digest, done))
        return await asyncio.shield(lookup)

    def _finished(self, digest: str, lookup: asyncio.Future[Principal]) -> None:
        self._lookups.pop(digest, None)
        if not lookup.cancelled():
            lookup.exception()  # retrieved here too, so that a look-up whose waiters all left logs nothing
