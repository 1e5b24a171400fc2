"""Database helpers on each backend."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from service.db import Database, commit_without_waiting_for_disk


def test_asynchronous_commit_is_for_one_transaction_only(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        with db.session() as db_session:
            commit_without_waiting_for_disk(db_session)  # SQLite: nothing to change, and no error
        return
    with db.session() as db_session:
        commit_without_waiting_for_disk(db_session)
        assert db_session.scalar(text("SHOW synchronous_commit")) == "off"
        db_session.commit()
        assert db_session.scalar(text("SHOW synchronous_commit")) == "on"


def test_a_database_error_does_not_carry_the_reported_values(db: Database) -> None:
    """Error messages reach logs and RQ's record of a failed job in Redis: no message text may be there."""
    reported = "Tao biết nhà mày, gọi 0912345678"
    with pytest.raises(StatementError) as failed, db.engine.begin() as connection:
        # Too long for the column on PostgreSQL, a missing reporter on SQLite: an error either way.
        connection.execute(
            text("INSERT INTO reports (id, channel, raw, content_type) VALUES (:id, :channel, :raw, :kind)"),
            {"id": "r", "channel": reported, "raw": reported.encode(), "kind": reported},
        )
    assert "parameters hidden" in str(failed.value)
    assert "0912345678" not in str(failed.value)
