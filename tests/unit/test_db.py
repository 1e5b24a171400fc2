"""Database helpers on each backend."""

from __future__ import annotations

import traceback

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

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
    with pytest.raises(IntegrityError) as failed, db.engine.begin() as connection:
        # No reporter: PostgreSQL's error would quote the whole row back ("Failing row contains ...").
        connection.execute(
            text("INSERT INTO reports (id, channel, raw, reference) VALUES (:id, 'sms', :raw, :reference)"),
            {"id": "r", "raw": reported.encode(), "reference": reported},
        )
    told = "".join(
        traceback.format_exception(failed.value)
    )  # the error and the driver's, as a log shows them
    assert "0912345678" not in told
    assert "parameters hidden" in told
    assert "reporter_id" in told  # what failed is still said
