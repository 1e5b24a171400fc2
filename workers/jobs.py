"""RQ jobs: importable, ids in, no logic here; each opens a session and calls the service."""

from __future__ import annotations

import logging
from functools import lru_cache

from service.cases.triage import TriagePolicy, triage_committed
from service.config import get_settings
from service.db import Database, utcnow
from service.dnscheck.service import check_dns as check_dns_service
from service.notify.service import notify_case as notify_case_service
from service.runtime import build_database, build_triage_policy

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _database() -> Database:
    return build_database(get_settings())


@lru_cache(maxsize=1)
def _policy() -> TriagePolicy:
    return build_triage_policy(get_settings())


def triage_report(report_id: str) -> None:
    """Link a stored report into its campaign and put its case, enriched, in the review queue. Idempotent."""
    triage_committed(_database(), [report_id], _policy(), now=utcnow())


def triage_reports(report_ids: list[str]) -> None:
    """A batch of `triage_report`, in one transaction. Idempotent.

    If the batch fails, each report is tried again on its own, so one report that cannot be triaged holds
    back only itself; the job then fails (and RQ retries it) only for that one.
    """
    try:
        triage_committed(_database(), report_ids, _policy(), now=utcnow())
        return
    except Exception as exc:  # the report ids are retried one by one below
        log.warning(
            "triage batch of %d failed (%s); retrying one by one", len(report_ids), type(exc).__name__
        )
    failed = []
    for report_id in report_ids:
        try:
            triage_report(report_id)
        except Exception as exc:  # counted, and raised once the batch is through
            log.warning("triage of report %s failed: %s", report_id, type(exc).__name__)
            failed.append(report_id)
    if failed:
        raise RuntimeError(
            f"triage failed for {len(failed)} of {len(report_ids)} reports: {', '.join(failed)}"
        )


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
