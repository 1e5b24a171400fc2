"""`settle_heap`: what start-up built is hidden from the collector, and young collections run less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from service.runtime import GC_THRESHOLDS, settle_heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_settle_heap_freezes_start_up_objects_and_raises_the_young_threshold(restored_gc: None) -> None:
    long_lived = [{"rule": n} for n in range(1000)]
    settle_heap()
    assert gc.get_freeze_count() >= len(long_lived)
    assert gc.get_threshold() == GC_THRESHOLDS
