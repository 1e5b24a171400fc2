"""open cases by campaign

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

Every report that arrives with a case of its own and joins a campaign has that case folded into the
campaign's case, closed as a duplicate: a campaign of 4,000 reports kept 2,700 closed cases, all read to find
its one open case for every report that joined it. Only open cases are in this index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status <> 'closed'")


def upgrade() -> None:
    op.create_index(
        "ix_cases_campaign_open", "cases", ["campaign_id"], sqlite_where=OPEN, postgresql_where=OPEN
    )


def downgrade() -> None:
    op.drop_index("ix_cases_campaign_open", table_name="cases")
