"""Merging N cases into one: the most urgent becomes the primary, the others fold into it, one campaign."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.campaigns.models import Campaign
from service.cases.models import Case
from service.cases.workflow import LEVEL_RANK, fold_into, record, refresh_counts
from service.errors import Conflict, NotFound, UnprocessableContent
from service.ids import new_id
from service.ingest.models import Report

MAX_MERGE = 100


def merge_cases(*, db_session: Session, case_ids: list[str], actor: str, now: datetime) -> Case:
    """Fold every listed case into the most urgent one and link all their reports in one campaign."""
    unique_ids = list(dict.fromkeys(case_ids))
    if not 2 <= len(unique_ids) <= MAX_MERGE:
        raise UnprocessableContent(f"Merging needs between 2 and {MAX_MERGE} different cases.")
    cases = list(db_session.scalars(select(Case).where(Case.id.in_(unique_ids))).all())
    if len(cases) != len(unique_ids):
        raise NotFound("One of the cases to merge does not exist.")
    if any(case.merged_into is not None for case in cases):
        raise Conflict("A case that was already merged cannot be merged again.")
    primary = min(cases, key=_urgency)
    campaign = _one_campaign(db_session, cases, primary, now=now)
    for duplicate in cases:
        if duplicate is not primary:
            fold_into(db_session, duplicate, primary, actor=actor, at=now)
            _lift(primary, duplicate)
    db_session.flush()
    refresh_counts(db_session, primary)
    record(
        db_session,
        primary,
        actor=actor,
        kind="merged_cases",
        at=now,
        campaign=campaign.id,
        cases=[case.id for case in cases if case is not primary],
    )
    primary.updated_at = now
    db_session.flush()
    return primary


def _urgency(case: Case) -> tuple[int, int, datetime]:
    # An open case outranks a closed one, then the higher level, then the older case.
    return (case.status == "closed", -LEVEL_RANK.get(case.level, 0), case.created_at)


def _lift(primary: Case, duplicate: Case) -> None:
    if LEVEL_RANK.get(duplicate.level, 0) > LEVEL_RANK.get(primary.level, 0):
        primary.level, primary.lane = duplicate.level, duplicate.lane
    if duplicate.sla_due_at and (primary.sla_due_at is None or duplicate.sla_due_at < primary.sla_due_at):
        primary.sla_due_at = duplicate.sla_due_at


def _one_campaign(db_session: Session, cases: list[Case], primary: Case, *, now: datetime) -> Campaign:
    """The primary's campaign (or the first one found, or a new one), absorbing every other campaign."""
    known = [case.campaign_id for case in [primary, *cases] if case.campaign_id]
    campaign = db_session.get(Campaign, known[0]) if known else None
    if campaign is None:
        campaign = Campaign(id=new_id(), created_at=now)
        db_session.add(campaign)
        db_session.flush()
    others = {campaign_id for campaign_id in known if campaign_id != campaign.id}
    case_ids = [case.id for case in cases]
    if others:
        db_session.execute(
            update(Report).where(Report.campaign_id.in_(others)).values(campaign_id=campaign.id)
        )
        db_session.execute(update(Case).where(Case.campaign_id.in_(others)).values(campaign_id=campaign.id))
    db_session.execute(update(Report).where(Report.case_id.in_(case_ids)).values(campaign_id=campaign.id))
    for case in cases:
        case.campaign_id = campaign.id
    campaign.case_id = primary.id
    db_session.flush()
    return campaign
