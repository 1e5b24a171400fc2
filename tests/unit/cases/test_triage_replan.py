"""Triage drops its connection's cached plans now and then on PostgreSQL: after 1 s, 2, 4 … up to every 30 s.

Plans cached while the tables were nearly empty would otherwise stay (a sequential scan) for as long as the
connection lives where autovacuum never runs ANALYZE.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import event

import service.db as database
from service.db import Database


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def test_plans_are_dropped_at_doubling_intervals_up_to_the_cap(
    db: Database, statements: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    # Only the plan refresh's view of the clock moves: the pool and pytest keep the real one.
    monkeypatch.setattr("service.db.time", SimpleNamespace(monotonic=clock))
    with db.session() as db_session:
        database.replan_now_and_then(db_session)
        if db.engine.dialect.name != "postgresql":
            assert "plans" not in db_session.connection().info
            assert "DISCARD PLANS" not in statements
            return
        assert statements.count("DISCARD PLANS") == 0  # a fresh connection has nothing stale yet
        intervals = []
        for _ in range(8):
            every = db_session.connection().info["plans"][1]
            clock.now += every - 0.01
            database.replan_now_and_then(db_session)  # not yet due
            clock.now += 0.01
            database.replan_now_and_then(db_session)
            intervals.append(every)
        assert intervals == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
        assert statements.count("DISCARD PLANS") == 8
