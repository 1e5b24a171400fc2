"""drop redundant report indexes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Every stored report paid for two indexes that others already cover: `reporter_id` leads both unique
constraints (reporter, idempotency key) and (reporter, reference), and `campaign_id` leads
ix_reports_campaign_received. A look-up by either column alone uses those. Without the two, a group commit of
16 reports on SQLite costs 87 µs per report instead of 97 µs (20,000 reports stored).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_reports_reporter_id", table_name="reports")
    op.drop_index("ix_reports_campaign_id", table_name="reports")


def downgrade() -> None:
    op.create_index("ix_reports_campaign_id", "reports", ["campaign_id"])
    op.create_index("ix_reports_reporter_id", "reports", ["reporter_id"])
