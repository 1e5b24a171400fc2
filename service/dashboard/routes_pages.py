"""Campaign, rules, stats and audit pages; and the admin's rules reload."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from service.audit.service import list_audit, record_audit
from service.campaigns.models import Campaign
from service.dashboard import stats
from service.dashboard.campaignview import campaign_page
from service.dashboard.rulesview import rule_records, rules_table
from service.dashboard.security import remote_addr
from service.dashboard.web import (
    BASE,
    AdminPoster,
    AdminViewer,
    CurrentViewer,
    DashboardRefusal,
    db_of,
    render,
)
from service.db import utcnow

router = APIRouter()


@router.get("/campaigns/{campaign_id}")
def campaign(campaign_id: str, request: Request, viewer: CurrentViewer) -> Response:
    """All linked reports, victims over time and the entities they share."""
    with db_of(request).session() as db_session:
        if db_session.get(Campaign, campaign_id[:36]) is None:
            raise DashboardRefusal(404, "There is no such campaign.")
        page = campaign_page(db_session, campaign_id[:36])
    return render(request, "campaign.html", page=page)


@router.get("/rules")
def rules(request: Request, viewer: CurrentViewer) -> Response:
    """Active version, last reload and its errors, per-rule hits and precision, shadow rules."""
    status = request.app.state.analyzer.rules.status()
    with db_of(request).session() as db_session:
        table = rules_table(status, rule_records(db_session))
    return render(request, "rules.html", status=status, rules=table)


@router.post("/rules/reload")
async def reload_rules(request: Request, viewer: AdminPoster) -> Response:
    """Validate and swap in the rules folder now (admins only)."""
    result = await run_in_threadpool(request.app.state.rules_reloader.reload, f"dashboard:{viewer.name}")
    await run_in_threadpool(_audit_reload, request, viewer.name, viewer.role, bool(result.ok))
    return RedirectResponse(f"{BASE}/rules", status_code=303)


def _audit_reload(request: Request, actor: str, role: str, ok: bool) -> None:
    with db_of(request).session() as db_session:
        record_audit(
            db_session,
            actor=actor,
            role=role,
            action="rules.reload",
            outcome="ok" if ok else "refused",
            remote_addr=remote_addr(request),
        )
        db_session.commit()


@router.get("/stats")
def stats_page(request: Request, viewer: CurrentViewer) -> Response:
    """Reports per day by level, top senders, carriers, countries and ASNs, time to verdict, SLA breaches."""
    now = utcnow()
    with db_of(request).session() as db_session:
        charts = [
            stats.reports_per_day(db_session, now=now),
            *stats.top_charts(stats.recent_analyses(db_session)),
            stats.time_to_verdict(db_session, now=now),
            stats.sla_breaches(db_session, now=now),
        ]
    return render(request, "stats.html", charts=charts)


@router.get("/audit")
def audit(
    request: Request, viewer: AdminViewer, actor: str | None = None, action: str | None = None
) -> Response:
    """The audit log, newest first (admins only)."""
    with db_of(request).session() as db_session:
        entries = list_audit(
            db_session=db_session,
            actor=(actor or "")[:100] or None,
            action=(action or "")[:50] or None,
        )
    return render(request, "audit.html", entries=entries, actor=actor or "", action=action or "")
