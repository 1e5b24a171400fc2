"""Alembic environment: runs online against the URL set by service.runtime.migrate."""

from alembic import context
from sqlalchemy import engine_from_config, pool

import service.models  # noqa: F401 - registers every table on the metadata
from service.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        # render_as_batch lets SQLite alter tables by copy, which it needs for most ALTERs.
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
