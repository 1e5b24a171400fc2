"""`triage_report`: what the worker does for every stored report. Idempotent: running it twice is harmless.

1. Link the report to earlier reports that share an indicator; linked reports form one campaign.
2. A campaign is one piece of work: every open case in it folds into the oldest.
3. The escalation ladder: enough reports in a campaign within a window open or lift its case, even when each
   report scored low.
4. Stamp the report and its case enriched.

Workers triage side by side: each transaction locks the reports and campaigns it changes (see
service/campaigns/locks.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.attributes import set_committed_value

from service.campaigns.locks import CorrelationBusy, CorrelationLocks
from service.campaigns.models import Campaign
from service.campaigns.service import (
    Joined,
    Related,
    find_related,
    indicators_by_report,
    join_campaign,
    reports_since,
    write_indicators,
)
from service.cases.ladder import LadderStep
from service.cases.models import Case
from service.cases.sketches import stored_message_sketch
from service.cases.sla import SlaPolicy
from service.cases.workflow import LEVEL_RANK, fold_into, move, raise_level, record
from service.db import SYNC_MATCHED, Database, commit_without_waiting_for_disk, replan_now_and_then
from service.dnscheck.service import DNS_JOB
from service.ids import new_id
from service.ingest.models import Report
from service.jobs.queue import queue_once
from service.notify.service import queue_notice_if_critical
from service.parsing.email import EmailLimits

WORKER = "worker"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TriagePolicy:
    window_days: int = 30
    notify_critical: bool = False
    check_dns: bool = False
    ladder: tuple[LadderStep, ...] = (LadderStep(5, 24, "high"), LadderStep(25, 24, "critical"))
    lanes: Mapping[str, str] = field(default_factory=lambda: {"critical": "urgent", "high": "review"})
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    # The deployment's SECRET_KEY (runtime.build_triage_policy): indicator rows are keyed hashes under it.
    hash_key: bytes = b""
    # Ingest's bounds on an email (MAX_EMAIL_BYTES), for a stored email whose analysis holds no template
    # sketch: only an SMS's is left to triage, but the input is parsed as it was at ingest either way.
    email_limits: EmailLimits = field(default_factory=EmailLimits)

    def sketch_of(self, content_type: str, raw: bytes) -> list[str]:
        """The template sketch of a stored report's message."""
        return stored_message_sketch(content_type, raw, limits=self.email_limits)


def triage_committed(db: Database, report_ids: Sequence[str], policy: TriagePolicy, *, now: datetime) -> int:
    """`triage_reports` in a transaction of its own, committed; returns how many were done.

    A batch that finds midway that another worker is changing a campaign or report it must change is rolled
    back and run again alone, which is rare: most locks are taken before triage starts.
    """
    write_indicators_committed(db, report_ids, policy, now=now)
    try:
        return _triage_and_commit(db, report_ids, policy, now=now, alone=False)
    except CorrelationBusy as busy:
        log.info("triage of %d report(s) runs again alone: %s", len(report_ids), busy)
        return _triage_and_commit(db, report_ids, policy, now=now, alone=True)


def write_indicators_committed(
    db: Database, report_ids: Sequence[str], policy: TriagePolicy, *, now: datetime
) -> None:
    """The indicator rows of this batch, and of other reports still without theirs, committed before the
    batch correlates: a report triaged alongside sees this batch's rows as soon as they are committed, and
    this batch sees the rows of every report whose pass committed before its own look-ups. Of two related
    reports triaged at once, the later look-up therefore finds the other, as when ingest wrote the rows."""
    with db.session() as db_session:
        commit_without_waiting_for_disk(db_session)  # derived rows: a lost pass is written again next time
        write_indicators(
            db_session, key=policy.hash_key, now=now, report_ids=report_ids, sketch_of=policy.sketch_of
        )
        write_indicators(db_session, key=policy.hash_key, now=now, sketch_of=policy.sketch_of)
        db_session.commit()


def _triage_and_commit(
    db: Database, report_ids: Sequence[str], policy: TriagePolicy, *, now: datetime, alone: bool
) -> int:
    with db.session() as db_session:
        done = triage_reports(
            db_session=db_session, report_ids=report_ids, policy=policy, now=now, alone=alone
        )
        db_session.commit()
    return done


def triage_report(
    *, db_session: Session, report_id: str, policy: TriagePolicy, now: datetime, alone: bool = False
) -> Report | None:
    """Correlate, fold, escalate and stamp one report (see the module docstring)."""
    locks, indicators = _begin(db_session, [report_id], policy, now=now, alone=alone)
    report = db_session.get(Report, report_id)
    if report is None:
        return None
    _triage(db_session, report, policy, now=now, locks=locks, indicators=indicators[report_id])
    db_session.flush()
    return report


def triage_reports(
    *,
    db_session: Session,
    report_ids: Sequence[str],
    policy: TriagePolicy,
    now: datetime,
    alone: bool = False,
) -> int:
    """Triage a batch in the caller's transaction; returns how many were done.

    Reports already enriched are skipped: a retried batch whose transaction committed has nothing left to do.
    Raises `CorrelationBusy` when another transaction holds a report or campaign the batch found it must
    change; the caller rolls back and runs it again with `alone` (as `triage_committed` does).
    """
    locks, indicators = _begin(db_session, report_ids, policy, now=now, alone=alone)
    reports = db_session.scalars(
        select(Report)
        .where(Report.id.in_(report_ids), Report.enriched_at.is_(None))
        .options(defer(Report.raw), defer(Report.analysis), defer(Report.rescores))
    ).all()
    by_id = {report.id: report for report in reports}
    done = 0
    # The ORM's changes (case statuses and counts, events, enriched stamps) are written once for the whole
    # batch, as a few multi-row statements, instead of once per report. Everything a later report's queries
    # must see (campaign membership, moved reports) is written at once by Core statements instead.
    with db_session.no_autoflush:
        for report_id in report_ids:  # in arrival order, as single jobs would have run
            if report_id in by_id:
                report = by_id[report_id]
                _triage(db_session, report, policy, now=now, locks=locks, indicators=indicators[report_id])
                done += 1
    db_session.flush()
    return done


def _begin(
    db_session: Session, report_ids: Sequence[str], policy: TriagePolicy, *, now: datetime, alone: bool
) -> tuple[CorrelationLocks, dict[str, list[tuple[str, str]]]]:
    """Settings for the transaction, the reports' indicators, and the locks on what they will change."""
    commit_without_waiting_for_disk(db_session)
    replan_now_and_then(db_session)
    # Indicators never change: read before the locks, they tell which locks to take. Written here for a
    # caller that did not write them first (triage_committed does).
    write_indicators(
        db_session, key=policy.hash_key, now=now, report_ids=report_ids, sketch_of=policy.sketch_of
    )
    indicators = indicators_by_report(db_session, report_ids)
    since = now - timedelta(days=policy.window_days)
    return CorrelationLocks.take(db_session, indicators, since=since, alone=alone), indicators


def _triage(
    db_session: Session,
    report: Report,
    policy: TriagePolicy,
    *,
    now: datetime,
    locks: CorrelationLocks,
    indicators: list[tuple[str, str]] | None = None,
) -> Report:
    since = now - timedelta(days=policy.window_days)
    related = _find_related_locked(db_session, report, locks, since=since, indicators=indicators)
    joined = join_campaign(db_session, report, related, now=now) if related else None
    campaign = joined.campaign if joined else None
    if campaign is not None:
        # A campaign founded just now is seen by this batch's later reports: held, it is not read twice.
        locks.ensure(campaign_ids=[campaign.id])
    case = _primary_case(db_session, report, joined, now=now)
    if campaign is not None:
        case = _apply_ladder(db_session, campaign, case, policy, now=now)
    if case is not None and case.enriched_at is None:
        case.enriched_at = now
        record(db_session, case, actor=WORKER, kind="enriched", at=now, linked=bool(related))
    report.enriched_at = report.enriched_at or now
    if case is not None and policy.notify_critical:
        queue_notice_if_critical(db_session, case, now=now)
    if policy.check_dns and report.channel == "email":
        queue_once(db_session, queue="enrich", job=DNS_JOB, subject_id=report.id, now=now)
    return report


def _find_related_locked(
    db_session: Session,
    report: Report,
    locks: CorrelationLocks,
    *,
    since: datetime,
    indicators: list[tuple[str, str]] | None,
) -> Related:
    """`find_related`, once this transaction holds the locks of everything it names."""
    related = find_related(db_session, report, since=since, indicators=indicators)
    while locks.ensure(
        report_ids=related.loose_ids, campaign_ids=[*related.campaign_ids, report.campaign_id]
    ):
        # Read before the new locks were ours: another worker may have merged or swept in what was found.
        db_session.refresh(report, ["campaign_id", "case_id"])
        related = find_related(db_session, report, since=since, indicators=indicators)
    return related


def _primary_case(
    db_session: Session, report: Report, joined: Joined | None, *, now: datetime
) -> Case | None:
    if joined is None:
        return db_session.get(Case, report.case_id) if report.case_id else None
    campaign = joined.campaign
    candidates = db_session.scalars(
        select(Case)
        .where(Case.campaign_id == campaign.id, Case.status != "closed")
        .order_by(Case.created_at, Case.id)
    ).all()
    # A case folded earlier in this batch still reads open in the database until the batch is written, but
    # the session hands back its own copy, closed: the status is tested again here.
    open_cases = [case for case in candidates if case.status != "closed"]
    if not open_cases:
        return None
    primary, duplicates = open_cases[0], open_cases[1:]
    for duplicate in duplicates:
        fold_into(db_session, duplicate, primary, actor=WORKER, at=now)
    if joined.widened or campaign.case_id != primary.id:
        _make_campaign_case(db_session, campaign, primary)
    elif report.case_id is None:
        # The common case, one report joining a campaign that has its case.
        _join_case(db_session, report, primary)
    return primary


def _join_case(db_session: Session, report: Report, case: Case) -> None:
    # Written now, not at the next flush: a later report's `_make_campaign_case` must not take it again.
    reports = cast(Table, Report.__table__)
    db_session.execute(update(reports).where(reports.c.id == report.id).values(case_id=case.id))
    set_committed_value(report, "case_id", case.id)
    case.report_count += 1
    case.score = max(case.score, report.score)


def _make_campaign_case(db_session: Session, campaign: Campaign, case: Case) -> None:
    """`case` becomes the campaign's case, and takes the members that have none of their own (loose reports,
    or reports from before the campaign had a case).

    Its counts grow by the reports it takes: every other way into a case counts as it goes, and a recount
    would read every report of the campaign (4,000 in the load test's largest).
    """
    campaign.case_id = case.id
    taken = db_session.scalars(
        update(Report)
        .execution_options(synchronize_session=SYNC_MATCHED)
        .where(Report.campaign_id == campaign.id, Report.case_id.is_(None))
        .values(case_id=case.id)
        .returning(Report.score)
    ).all()
    case.report_count += len(taken)
    case.score = max([case.score, *taken])


def _apply_ladder(
    db_session: Session, campaign: Campaign, case: Case | None, policy: TriagePolicy, *, now: datetime
) -> Case | None:
    top = max((LEVEL_RANK[step.level] for step in policy.ladder), default=0)
    if case is not None and LEVEL_RANK.get(case.level, 0) >= top:
        return case  # already as urgent as the ladder can make it: no need to count
    step = _step_reached(db_session, campaign, policy, now=now)
    if step is None:
        return case
    lane = policy.lanes.get(step.level, "review")
    if case is None:
        case = _open_campaign_case(db_session, campaign, step, lane, policy, now=now)
    elif raise_level(case, step.level, lane):
        case.sla_due_at = policy.sla.due_at(lane, now)
        record(
            db_session, case, actor="ladder", kind="escalated", at=now, level=step.level, reports=step.reports
        )
        _escalate_if_critical(db_session, case, now=now)
    return case


def _escalate_if_critical(db_session: Session, case: Case, *, now: datetime) -> None:
    # A campaign at the top of the ladder is escalated, not just re-ranked: it needs a senior analyst now.
    if case.level == "critical" and case.status in {"new", "triage"}:
        move(db_session, case, "escalated", actor="ladder", at=now)


def _step_reached(
    db_session: Session, campaign: Campaign, policy: TriagePolicy, *, now: datetime
) -> LadderStep | None:
    reached = None
    for step in sorted(policy.ladder, key=lambda s: s.reports):
        if reports_since(db_session, campaign.id, now - timedelta(hours=step.within_hours)) >= step.reports:
            reached = step
    return reached


def _open_campaign_case(
    db_session: Session,
    campaign: Campaign,
    step: LadderStep,
    lane: str,
    policy: TriagePolicy,
    *,
    now: datetime,
) -> Case:
    case = Case(
        id=new_id(), status="new", lane=lane, level=step.level, score=0.0, report_count=0,
        created_at=now, updated_at=now, sla_due_at=policy.sla.due_at(lane, now), campaign_id=campaign.id,
    )  # fmt: skip
    db_session.add(case)
    db_session.flush()
    _make_campaign_case(db_session, campaign, case)
    record(db_session, case, actor="ladder", kind="opened", at=now, level=step.level, reports=step.reports)
    _escalate_if_critical(db_session, case, now=now)
    return case
