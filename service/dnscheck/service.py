"""The DNS job: look up a report's origin and sender domain, and keep the answers with the report."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.dnscheck.lookups import dns_facts, make_resolver
from service.ingest.models import Report

DNS_JOB = "workers.jobs.check_dns"


def check_dns(*, db_session: Session, report_id: str, nameserver: str, timeout: float = 2.0) -> bool:
    """Store `analysis.dns` for an email report that has an origin IP or a sender domain; True when done."""
    report = db_session.get(Report, report_id)
    if report is None or report.channel != "email" or "dns" in report.analysis:
        return False
    ip = (report.analysis.get("origin") or {}).get("ip")
    address = (report.analysis.get("sender") or {}).get("email") or ""
    domain = address.rpartition("@")[2] or None
    if not ip and not domain:
        return False
    facts = dns_facts(make_resolver(nameserver, timeout=timeout), ip=ip, domain=domain)
    report.analysis = {**report.analysis, "dns": facts.to_dict()}
    db_session.flush()
    return True
