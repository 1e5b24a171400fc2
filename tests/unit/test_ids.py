"""Row ids are UUIDv7: valid RFC 9562 UUIDs that sort by creation time."""

from __future__ import annotations

import time
import uuid

from service.ids import new_id


def test_ids_are_version_7_uuids_carrying_their_creation_time() -> None:
    before = time.time_ns() // 1_000_000
    value = uuid.UUID(new_id())
    after = time.time_ns() // 1_000_000
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert before <= value.int >> 80 <= after


def test_ids_made_later_sort_after_and_never_repeat() -> None:
    first = [new_id() for _ in range(2000)]
    time.sleep(0.002)
    second = [new_id() for _ in range(2000)]
    assert max(first) < min(second)
    assert len(set(first + second)) == 4000


def test_ids_made_by_many_threads_at_once_never_repeat() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        batches = list(pool.map(lambda _: [new_id() for _ in range(500)], range(8)))
    made = [value for batch in batches for value in batch]
    assert len(set(made)) == len(made) == 4000
