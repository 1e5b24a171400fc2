"""indicators written by triage

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

A report's indicator rows (`report_indicators`: a keyed hash per sender, number, URL and template shingle)
were inserted with the report. Only triage reads them, and the look-up index on their random hashes cost
every stored report a freshly dirtied page per row: a fifth of an intake process's CPU. Triage now writes
them from the stored analysis, in bulk, before it correlates; `indicators_at` says a report's rows are
written, and a partial index finds the reports still without them. Reports stored before this revision
have theirs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNINDEXED = sa.text("indicators_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("indicators_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE reports SET indicators_at = received_at")
    op.create_index(
        "ix_reports_without_indicators",
        "reports",
        ["id"],
        sqlite_where=UNINDEXED,
        postgresql_where=UNINDEXED,
    )


def downgrade() -> None:
    op.drop_index("ix_reports_without_indicators", table_name="reports")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("indicators_at")
