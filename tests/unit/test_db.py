"""Database helpers on each backend."""

from __future__ import annotations

from sqlalchemy import text

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
