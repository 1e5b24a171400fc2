"""RQ jobs: importable, ids in, no logic here; each opens a session and calls the service."""

from __future__ import annotations

from functools import lru_cache

from service.cases.triage import TriagePolicy
from service.cases.triage import triage_report as triage_report_service
from service.config import get_settings
from service.db import Database, utcnow
from service.dnscheck.service import check_dns as check_dns_service
from service.notify.service import notify_case as notify_case_service
from service.runtime import build_database, build_triage_policy


@lru_cache(maxsize=1)
def _database() -> Database:
    return build_database(get_settings())


@lru_cache(maxsize=1)
def _policy() -> TriagePolicy:
    return build_triage_policy(get_settings())


def triage_report(report_id: str) -> None:
    """Link a stored report into its campaign and put its case, enriched, in the review queue. Idempotent."""
    with _database().session() as db_session:
        triage_report_service(db_session=db_session, report_id=report_id, policy=_policy(), now=utcnow())
        db_session.commit()


def notify_case(case_id: str) -> None:
    """POST the critical-case webhook notice; raises (so RQ retries with backoff) when it is not delivered."""
    settings = get_settings()
    if not settings.webhook_url:
        return
    with _database().session() as db_session:
        notify_case_service(
            db_session=db_session, case_id=case_id, url=settings.webhook_url, secret=settings.webhook_secret,
            public_url=settings.public_url, now=utcnow(),
        )  # fmt: skip
        db_session.commit()


def check_dns(report_id: str) -> None:
    """Reverse DNS of the origin and the sender domain's SPF and DMARC records, kept with the report."""
    settings = get_settings()
    if not settings.dns_resolver:
        return
    with _database().session() as db_session:
        check_dns_service(db_session=db_session, report_id=report_id, nameserver=settings.dns_resolver)
        db_session.commit()
