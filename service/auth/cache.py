"""A short-lived in-process cache of authenticated keys.

Every report needs its key checked, and a database round trip for that costs as much as storing the report.
Live keys are remembered for `ttl` seconds (AUTH_CACHE_SECONDS), so a revoked key stops working on every API
process within that time. Unknown keys are never cached: a key created a moment ago works at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from service.auth.service import Principal, hash_key

MAX_ENTRIES = 10_000


class KeyCache:
    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

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
