"""The Alembic migrations build exactly the schema the models describe, on each backend."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from service.db import Base, Database


def test_migrated_schema_matches_the_models(db: Database) -> None:
    import service.models  # noqa: F401  (every model on the metadata)

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_on_postgresql_reports_are_compressed_with_lz4_where_the_server_has_it(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's compression of large values")
    with db.engine.connect() as connection:
        methods = connection.scalar(
            text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
        )
        if "lz4" not in methods:
            pytest.skip("this PostgreSQL was built without lz4")
        compression = dict(
            connection.execute(
                text(
                    "SELECT attname, attcompression FROM pg_attribute "
                    "WHERE attrelid = 'reports'::regclass AND attname IN ('raw', 'analysis', 'rescores')"
                )
            ).all()
        )
    assert compression == {"raw": "l", "analysis": "l", "rescores": "l"}
