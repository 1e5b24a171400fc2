"""Queueing and sending the critical-case notice, at most once per case once it has been delivered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from service.cases.models import Case, CaseEvent
from service.cases.service import case_json
from service.cases.workflow import record
from service.jobs.queue import queue_once
from service.notify.webhook import case_payload, send_webhook

NOTIFY_JOB = "workers.jobs.notify_case"
NOTIFIED = "webhook_notified"


def queue_notice_if_critical(db_session: Session, case: Case, *, now: datetime) -> bool:
    """Add the notice job to the outbox (in the caller's transaction) for a critical case not yet noticed."""
    if case.level != "critical":
        return False
    return queue_once(db_session, queue="critical", job=NOTIFY_JOB, subject_id=case.id, now=now)


def notify_case(
    *, db_session: Session, case_id: str, url: str, secret: str | None, public_url: str, now: datetime
) -> bool:
    """Send the notice unless it was delivered before; True when sent now. Raises WebhookError to retry."""
    case = db_session.get(Case, case_id)
    if case is None:
        return False
    delivered = db_session.scalar(
        select(exists().where(CaseEvent.case_id == case_id, CaseEvent.kind == NOTIFIED))
    )
    if delivered:
        return False
    send_webhook(
        url, case_payload(case_json(db_session, case, now=now), public_url=public_url), secret=secret
    )
    record(db_session, case, actor="worker", kind=NOTIFIED, at=now)
    db_session.flush()
    return True
