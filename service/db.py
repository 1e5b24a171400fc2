"""The SQL database: engine, sessions, and the per-process write lock.

Services only flush; whoever owns the unit of work commits. Queued jobs are never sent from inside a
transaction: they are outbox rows, published by a relay after the commit (service.jobs.publisher).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime, MetaData, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
PortableJSON = JSON().with_variant(JSONB(), "postgresql")


def as_utc(value: datetime | None) -> datetime | None:
    """An aware timestamp in UTC, as UTCDateTime binds it (a naive one as it is, taken to be UTC)."""
    return value.astimezone(UTC) if value is not None and value.tzinfo else value


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC when read, also on SQLite (which stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Timezone-aware now; every stored timestamp is UTC."""
    return datetime.now(UTC)


SQLITE_BUSY_MS = 30_000  # how long an SQLite writer waits for another to finish before giving up


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int | None = None) -> Engine:
    """An engine tuned per backend: WAL and a busy timeout for SQLite, a sized pool for PostgreSQL.

    Every engine keeps the values it writes out of its error messages (the parameters, and the values that
    PostgreSQL quotes back): they are reported texts, numbers and analyses, and an error's message ends up in
    logs and in RQ's record of a failed job in Redis.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000},
            json_serializer=json_text,
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, **_postgres_options(pool_size, max_overflow))
    event.listen(engine, "handle_error", _without_values)
    return engine


def make_async_engine(url: str, *, pool_size: int = 1, max_overflow: int | None = None) -> AsyncEngine:
    """An asyncio engine on PostgreSQL (psycopg's async connection), for work done on the event loop."""
    engine = create_async_engine(url, **_postgres_options(pool_size, max_overflow))
    event.listen(engine.sync_engine, "handle_error", _without_values)
    return engine


def _postgres_options(pool_size: int, max_overflow: int | None = None) -> dict[str, Any]:
    # A pool of pool_size and (unless told otherwise) as many again in overflow, checked before use
    # (PostgreSQL may have restarted).
    return {
        "pool_size": pool_size,
        "max_overflow": pool_size if max_overflow is None else max_overflow,
        "pool_pre_ping": True,
        "json_serializer": json_text,
        "hide_parameters": True,
    }


def _without_values(context: ExceptionContext) -> None:
    # PostgreSQL adds the offending values to its errors ("DETAIL: Failing row contains ...", "Key (...)=...",
    # 'invalid input syntax for type json: "..."'), and a traceback prints the driver's error beside ours.
    # Keep the first line, up to any quoted value: what failed and where, without what was in the row.
    original = context.original_exception
    if not isinstance(original, Exception):  # a cancellation or an interrupt: nothing quoted, leave it be
        return
    summary = str(original).split("\n", 1)[0].split(': "', 1)[0]
    original.args = (summary,)
    if context.sqlalchemy_exception is not None:
        context.sqlalchemy_exception.args = (
            f"({type(original).__module__}.{type(original).__name__}) {summary}",
        )


def json_text(value: Any) -> str:
    # orjson is several times faster than json on the analysis documents stored with every report.
    return orjson.dumps(value).decode()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets readers run beside the writer; NORMAL sync is durable across a process crash in WAL mode.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()


# Bulk updates bring the session's copies of the rows they changed up to date by reading the changed rows
# back (RETURNING), instead of testing every object of the class in the session as "evaluate" does: a batch
# of triage jobs holds hundreds of reports, and a bulk update touches one or two.
SYNC_MATCHED = "fetch"
REPLAN_SECONDS = 30.0  # the longest a connection keeps its cached query plans, once warm


def commit_without_waiting_for_disk(db_session: Session) -> None:
    """Let this transaction's commit return before its WAL is on disk (PostgreSQL; SQLite WAL is already so).

    Only for work that is idempotent and derived from rows committed durably: if the server crashes in the
    next fraction of a second the transaction is lost whole, never in part, and the reconciler runs the job
    again. Triage holds its correlation locks until its commit, so waiting on an fsync there (16 ms on a
    slow disk) would stall every worker that needs the same campaign.
    """
    if db_session.get_bind().dialect.name == "postgresql":
        db_session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def replan_now_and_then(db_session: Session) -> None:
    """Drop this connection's cached plans now and then (PostgreSQL), so that they follow the tables: after 1
    second, 2, 4 and so on up to every `REPLAN_SECONDS`, as the tables grow fast from empty, then slowly.

    The driver prepares a statement run a few times on a connection, and PostgreSQL soon keeps one generic
    plan for it, made for the table sizes of that moment; only an ANALYZE makes it plan again. Where
    autovacuum is off, nothing ever does: planned on a near-empty database, the look-up of loose reports
    by indicator stayed a sequential scan as the tables grew (14 ms per report at 10,000 reports, 30 ms at
    20,000). Planning every statement afresh would cost a fifth of triage; once in a while costs nothing.
    """
    if db_session.get_bind().dialect.name != "postgresql":
        return
    info = db_session.connection().info
    planned_at, every = info.setdefault("plans", (time.monotonic(), 1.0))
    if time.monotonic() - planned_at >= every:
        db_session.execute(text("DISCARD PLANS"))
        info["plans"] = (time.monotonic(), min(every * 2, REPLAN_SECONDS))


class Database:
    """An engine and its session factory, one per process and configuration."""

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, max_overflow=max_overflow)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time, and threads that collide wait in its busy handler, which sleeps in
        # steps of up to 100 ms. Queuing them on a lock in this process is far faster. PostgreSQL needs none.
        self.sqlite_write_lock = threading.Lock() if url.startswith("sqlite") else None
        self.write_lock: AbstractContextManager[Any] = self.sqlite_write_lock or nullcontext()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that rolls back whatever its owner did not commit."""
        session = self.sessionmaker()
        try:
            yield session
        finally:
            # close() rolls back whatever was not committed and detaches objects with their loaded state.
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
