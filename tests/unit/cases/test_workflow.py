from __future__ import annotations

from datetime import timedelta

from service.cases.models import Case
from service.cases.workflow import fold_into
from service.db import Database, utcnow


def test_folding_a_more_urgent_case_lifts_the_primary(db: Database) -> None:
    now = utcnow()
    with db.session() as db_session:
        stamps = {"status": "new", "report_count": 1, "created_at": now, "updated_at": now}
        primary = Case(
            id="p", lane="review", level="high", score=9, sla_due_at=now + timedelta(hours=8), **stamps
        )
        urgent = Case(
            id="u", lane="urgent", level="critical", score=30, sla_due_at=now + timedelta(hours=2), **stamps
        )
        db_session.add_all([primary, urgent])
        db_session.flush()
        fold_into(db_session, urgent, primary, actor="test", at=now)
        assert (primary.level, primary.lane, primary.score) == ("critical", "urgent", 30)
        assert primary.sla_due_at == now + timedelta(hours=2)
        assert (urgent.status, urgent.resolution, urgent.merged_into) == ("closed", "duplicate", "p")
