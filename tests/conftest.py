"""Shared fixtures: real databases (SQLite always, PostgreSQL when TEST_POSTGRES_URL is set) and a real Redis.

Redis is TEST_REDIS_URL when set (CI), else an embedded redis-server started for the session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from service.config import Settings
from service.db import Base, Database
from service.jobs.redis_server import EmbeddedRedis

if TYPE_CHECKING:
    from service.analysis.pipeline import Analyzer

REPO = Path(__file__).resolve().parent.parent
FILES = Path(__file__).resolve().parent / "files"
BACKENDS = ["sqlite", *(["postgres"] if os.environ.get("TEST_POSTGRES_URL") else [])]


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database of each backend, created for this test session and dropped after it."""
    from service.runtime import migrate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        migrate(url)
        yield url
        return
    admin_url = os.environ["TEST_POSTGRES_URL"]
    name = f"triage_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    migrate(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The session's database, emptied after each test."""
    database = Database(database_url)
    yield database
    with database.engine.begin() as conn:
        tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
        if database.engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
    database.dispose()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server."""
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        yield configured
        return
    embedded = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield embedded.start()
    embedded.stop()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # In-process apps answer reports on their own loop; tests/unit/intake runs the intake processes.
    return Settings(rules_dir=REPO / "rules", var_dir=tmp_path_factory.mktemp("var"), intake_workers=0)


@pytest.fixture(scope="session")
def analyzer(settings: Settings) -> Analyzer:
    """Rules, lists and geo data, loaded once for the whole session as a process would."""
    from service.runtime import build_analyzer

    return build_analyzer(settings)


@pytest.fixture
def app(settings: Settings, db: Database, analyzer: Analyzer, redis_url: str) -> FastAPI:
    from service.app import create_app

    return create_app(settings, db=db, analyzer=analyzer, redis_url=redis_url)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def new_key(db: Database, reporter: str = "operator-a", scopes: list[str] | None = None) -> str:
    """Create an API key the way `triage keys create` does."""
    from service.auth.service import create_key

    with db.session() as db_session:
        key = create_key(db_session=db_session, reporter_name=reporter, scopes=scopes)
        db_session.commit()
    return key


@pytest.fixture
def api_key(db: Database) -> str:
    return new_key(db)


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}
