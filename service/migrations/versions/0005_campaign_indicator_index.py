"""campaign indicator index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Correlation used to read every member of a campaign for each new report; a campaign of thousands made each
triage job slower than the last. A campaign now keeps one row per indicator value, and reports remember their
campaign in `report_indicators` so that only the loose ones stay in the partial index. Triage outbox rows are
published in batches, so a row records the RQ job that carries it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOOSE = sa.text("campaign_id IS NULL")
CASELESS = sa.text("case_id IS NULL")


def upgrade() -> None:
    op.create_table(
        "campaign_indicators",
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value_hash", sa.String(length=32), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_indicators_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "kind", "value_hash", name=op.f("pk_campaign_indicators")),
    )
    op.create_index("ix_campaign_indicators_lookup", "campaign_indicators", ["value_hash", "last_seen_at"])
    with op.batch_alter_table("report_indicators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.String(length=36), nullable=True))
    _backfill()
    # Members are found through their campaign now: only the loose reports need a look-up by value.
    op.drop_index("ix_report_indicators_lookup", table_name="report_indicators")
    op.create_index(
        "ix_report_indicators_loose",
        "report_indicators",
        ["value_hash", "seen_at"],
        sqlite_where=LOOSE,
        postgresql_where=LOOSE,
    )
    op.create_index(
        "ix_reports_campaign_caseless",
        "reports",
        ["campaign_id"],
        sqlite_where=CASELESS,
        postgresql_where=CASELESS,
    )
    op.create_index("ix_reports_campaign_received", "reports", ["campaign_id", "received_at"])
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rq_job_id", sa.String(length=80), nullable=True))


def _backfill() -> None:
    op.execute(
        "UPDATE report_indicators SET campaign_id = "
        "(SELECT reports.campaign_id FROM reports WHERE reports.id = report_indicators.report_id)"
    )
    op.execute(
        "INSERT INTO campaign_indicators (campaign_id, kind, value_hash, last_seen_at) "
        "SELECT campaign_id, kind, value_hash, MAX(seen_at) FROM report_indicators "
        "WHERE campaign_id IS NOT NULL GROUP BY campaign_id, kind, value_hash"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("rq_job_id")
    op.drop_index("ix_reports_campaign_received", table_name="reports")
    op.drop_index("ix_reports_campaign_caseless", table_name="reports")
    op.drop_index("ix_report_indicators_loose", table_name="report_indicators")
    op.create_index("ix_report_indicators_lookup", "report_indicators", ["kind", "value_hash", "seen_at"])
    with op.batch_alter_table("report_indicators", schema=None) as batch_op:
        batch_op.drop_column("campaign_id")
    op.drop_index("ix_campaign_indicators_lookup", table_name="campaign_indicators")
    op.drop_table("campaign_indicators")
