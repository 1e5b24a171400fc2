"""Correlation: link a report to earlier ones that share an indicator, and grow them into one campaign."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CompoundSelect, Table, bindparam, case, delete, func, insert, select, union, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from service.analysis.indicators import TEMPLATE, stored_sketch
from service.campaigns.indicators import indicator_rows
from service.campaigns.models import Campaign, CampaignIndicator, ReportIndicator
from service.cases.models import Case
from service.db import SYNC_MATCHED
from service.ids import new_id
from service.ingest.models import Report

TEMPLATE_MATCHES = 2  # sketch hashes two reports must share to count as one template
MAX_LOOSE = 1000  # related reports not yet in a campaign, taken in per run
INDICATORS_AT_ONCE = 2000  # reports whose indicator rows one pass writes, besides a triage batch's own
RAW_AT_ONCE = 16  # stored inputs read at once for template sketches: one may be as large as the body cap
SketchOf = Callable[[str, bytes], list[str]]
"""The template sketch of a stored input, from its content type and raw bytes (service.cases.sketches)."""


@dataclass(frozen=True)
class Related:
    """What a report links to: campaigns that exist, and related reports in none yet (a bounded few)."""

    campaign_ids: tuple[str, ...]
    loose_ids: tuple[str, ...]
    indicators: tuple[tuple[str, str], ...] = ()  # the report's own (kind, value hash) pairs

    def __bool__(self) -> bool:
        return bool(self.campaign_ids or self.loose_ids)


def write_indicators(
    db_session: Session,
    *,
    key: bytes,
    now: datetime,
    report_ids: Sequence[str] | None = None,
    sketch_of: SketchOf,
    limit: int = INDICATORS_AT_ONCE,
) -> int:
    """Write the `report_indicators` rows of reports that have none yet: those named, or else the oldest
    `limit` of them. Returns how many reports got theirs.

    Their rows come from the stored analysis, as ingest used to write them (migration 0008), and the template
    sketch of a report whose analysis holds none (an SMS) from its stored message, by `sketch_of`. On
    PostgreSQL the reports are locked first, so no report's rows are written twice: a worker waits for another
    one's pass over reports it names (it needs their rows), and leaves the others to whoever holds them.
    """
    query = select(Report.id, Report.analysis, Report.received_at).where(Report.indicators_at.is_(None))
    if report_ids is not None:
        query = query.where(Report.id.in_(report_ids))
    else:
        query = query.order_by(Report.id).limit(limit)
    if db_session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=report_ids is None)
    reports = db_session.execute(query).all()
    if not reports:
        return 0
    unsketched = [report_id for report_id, analysis, _ in reports if stored_sketch(analysis) is None]
    sketches = template_sketches(db_session, unsketched, sketch_of)
    rows = [
        row
        for report_id, analysis, received_at in reports
        for row in indicator_rows(
            report_id, analysis, key=key, now=received_at, sketch=sketches.get(report_id)
        )
    ]
    if rows:
        db_session.execute(insert(ReportIndicator), rows)
    done = [report_id for report_id, _, _ in reports]
    db_session.execute(
        update(Report).where(Report.id.in_(done)).values(indicators_at=now),
        execution_options={"synchronize_session": False},
    )
    return len(done)


def template_sketches(
    db_session: Session, report_ids: Sequence[str], sketch_of: SketchOf
) -> dict[str, list[str]]:
    """Each report's template sketch, from its stored input, read a few reports at a time."""
    sketches: dict[str, list[str]] = {}
    for start in range(0, len(report_ids), RAW_AT_ONCE):
        chunk = report_ids[start : start + RAW_AT_ONCE]
        stored = select(Report.id, Report.content_type, Report.raw).where(Report.id.in_(chunk))
        for report_id, content_type, raw in db_session.execute(stored):
            sketches[report_id] = sketch_of(content_type, raw)
    return sketches


def find_related(
    db_session: Session,
    report: Report,
    *,
    since: datetime,
    indicators: Sequence[tuple[str, str]] | None = None,
) -> Related:
    """Campaigns and loose reports seen since `since` that share an exact indicator or the template.

    Two indexed look-ups by indicator value, whatever the campaigns' sizes: a campaign answers through its
    own indicator rows, and only reports in no campaign yet are looked up one by one.
    """
    mine = list(indicators) if indicators is not None else indicators_of(db_session, report.id)
    if not mine:
        return Related((), ())
    values = {
        "exact": [value for kind, value in mine if kind != TEMPLATE],
        "template": [value for kind, value in mine if kind == TEMPLATE],
        "since": since,
    }
    campaigns = db_session.scalars(_RELATED_CAMPAIGNS, values)
    loose = db_session.scalars(_LOOSE_REPORTS, {**values, "report_id": report.id})
    return Related(tuple(sorted(campaigns)), tuple(loose), tuple(mine))


def indicators_of(db_session: Session, report_id: str) -> list[tuple[str, str]]:
    """The report's (kind, value hash) pairs."""
    return indicators_by_report(db_session, [report_id]).get(report_id, [])


def indicators_by_report(db_session: Session, report_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """The (kind, value hash) pairs of several reports, in one query."""
    found: dict[str, list[tuple[str, str]]] = {report_id: [] for report_id in report_ids}
    rows = db_session.execute(
        select(ReportIndicator.report_id, ReportIndicator.kind, ReportIndicator.value_hash).where(
            ReportIndicator.report_id.in_(report_ids)
        )
    )
    for report_id, kind, value_hash in rows:
        found[report_id].append((kind, value_hash))
    return found


@dataclass(frozen=True)
class Foreseen:
    """What triaging a batch is likely to change: its reports, the loose reports they sweep in, and the
    campaigns they join. Read before any lock is taken, so a forecast only (see `CorrelationLocks`)."""

    report_ids: frozenset[str]
    campaign_ids: frozenset[str]


def foresee_changes(
    db_session: Session, indicators: Mapping[str, Sequence[tuple[str, str]]], *, since: datetime
) -> Foreseen:
    """The batch's reports and campaigns, and what `find_related` would link them to: three indexed look-ups
    for the whole batch, whose rows are matched to each report here."""
    values = {value for pairs in indicators.values() for _kind, value in pairs}
    loose = db_session.execute(
        select(ReportIndicator.report_id, ReportIndicator.value_hash).where(
            ReportIndicator.value_hash.in_(values),
            ReportIndicator.seen_at >= since,
            ReportIndicator.campaign_id.is_(None),
        )
    )
    campaigns = db_session.execute(
        select(CampaignIndicator.campaign_id, CampaignIndicator.value_hash).where(
            CampaignIndicator.value_hash.in_(values), CampaignIndicator.last_seen_at >= since
        )
    )
    current = db_session.scalars(
        select(Report.campaign_id).where(Report.id.in_(list(indicators)), Report.campaign_id.is_not(None))
    )
    return Foreseen(
        frozenset({*indicators, *_linked(indicators, loose)}),
        frozenset({*_linked(indicators, campaigns), *current}),
    )


def _linked(
    indicators: Mapping[str, Sequence[tuple[str, str]]], holders: Iterable[tuple[str, str]]
) -> set[str]:
    """The holders (id, value hash) that share an exact indicator, or `TEMPLATE_MATCHES` template hashes,
    with one of the reports: the rule of `find_related`."""
    by_value: dict[str, list[str]] = defaultdict(list)
    for holder, value in holders:
        by_value[value].append(holder)
    linked: set[str] = set()
    for pairs in indicators.values():
        template_matches: Counter[str] = Counter()
        for kind, value in pairs:
            if kind == TEMPLATE:
                template_matches.update(by_value.get(value, ()))
            else:
                linked.update(by_value.get(value, ()))
        linked.update(holder for holder, count in template_matches.items() if count >= TEMPLATE_MATCHES)
    return linked


def _by_indicator(key: Any, value_hash: Any, seen_at: Any, *conditions: Any) -> CompoundSelect[Any]:
    """`key`s sharing one exact indicator, or `TEMPLATE_MATCHES` template hashes, since `:since`.

    Built once at import: the statement is the same for every report, only its parameters change. A value
    hash is an HMAC of `kind:value`, so the hash alone names the kind too.
    """
    recent = select(key).where(seen_at >= bindparam("since"), *conditions)
    return union(
        recent.where(value_hash.in_(bindparam("exact", expanding=True))),
        recent.where(value_hash.in_(bindparam("template", expanding=True)))
        .group_by(key)
        .having(func.count() >= TEMPLATE_MATCHES),
    )


_RELATED_CAMPAIGNS = _by_indicator(
    CampaignIndicator.campaign_id, CampaignIndicator.value_hash, CampaignIndicator.last_seen_at
)
_LOOSE_REPORTS = (
    _by_indicator(
        ReportIndicator.report_id,
        ReportIndicator.value_hash,
        ReportIndicator.seen_at,
        ReportIndicator.campaign_id.is_(None),
        ReportIndicator.report_id != bindparam("report_id"),
    )
    .subquery()
    .select()
    .limit(MAX_LOOSE)
)


@dataclass(frozen=True)
class Joined:
    campaign: Campaign
    # True when more than the report joined (loose reports, or whole campaigns merged): counts need a recount.
    widened: bool


def join_campaign(db_session: Session, report: Report, related: Related, *, now: datetime) -> Joined:
    """Put the report and its related reports in one campaign, merging campaigns that now meet."""
    wanted = {*related.campaign_ids, *([report.campaign_id] if report.campaign_id else [])}
    existing = _campaigns(db_session, wanted)
    if existing:
        campaign, absorbed = existing[0], [c.id for c in existing[1:]]
    else:
        campaign, absorbed = Campaign(id=new_id(), created_at=now), []
        db_session.add(campaign)
        db_session.flush()
    if absorbed:
        _absorb(db_session, campaign.id, absorbed)
    if related.loose_ids:
        _join_loose(db_session, campaign.id, list(related.loose_ids))
    if report.campaign_id != campaign.id:
        _join_one(db_session, report, campaign.id, related.indicators, now=now)
    return Joined(campaign, widened=bool(absorbed or related.loose_ids))


def _campaigns(db_session: Session, ids: set[str]) -> Sequence[Campaign]:
    """Oldest first. One campaign, the usual case, is read once per session (a triage batch)."""
    if len(ids) == 1:
        # The identity map holds objects weakly, so a batch's campaign would be read again for every report;
        # the session's info keeps it alive for as long as the batch runs.
        held: dict[str, Campaign] = db_session.info.setdefault("campaigns", {})
        campaign_id = next(iter(ids))
        campaign = held.get(campaign_id) or db_session.get(Campaign, campaign_id)
        if campaign is not None:
            held[campaign_id] = campaign
        return [campaign] if campaign is not None else []
    return db_session.scalars(
        select(Campaign).where(Campaign.id.in_(ids)).order_by(Campaign.created_at, Campaign.id)
    ).all()


def _join_one(
    db_session: Session,
    report: Report,
    campaign_id: str,
    indicators: Sequence[tuple[str, str]],
    *,
    now: datetime,
) -> None:
    """The common case, in a few statements: one report joins a campaign."""
    # Written now, not at the next flush: the statements that follow, and the next report, must see it.
    reports = cast(Table, Report.__table__)
    db_session.execute(update(reports).where(reports.c.id == report.id).values(campaign_id=campaign_id))
    set_committed_value(report, "campaign_id", campaign_id)
    if report.case_id is not None:
        db_session.execute(update(Case).where(Case.id == report.case_id).values(campaign_id=campaign_id))
    _mark_members(db_session, campaign_id, [report.id])
    seen_at = report.received_at or now
    _upsert_indicators(db_session, campaign_id, [(kind, value, seen_at) for kind, value in indicators])


def _join_loose(db_session: Session, campaign_id: str, report_ids: list[str]) -> None:
    """Reports that were in no campaign join this one, with their cases and indicators."""
    moved_cases = select(Report.case_id).where(Report.id.in_(report_ids))
    db_session.execute(update(Case).where(Case.id.in_(moved_cases)).values(campaign_id=campaign_id))
    db_session.execute(
        update(Report)
        .execution_options(synchronize_session=SYNC_MATCHED)
        .where(Report.id.in_(report_ids))
        .values(campaign_id=campaign_id)
    )
    _mark_members(db_session, campaign_id, report_ids)
    rows = db_session.execute(
        select(ReportIndicator.kind, ReportIndicator.value_hash, func.max(ReportIndicator.seen_at))
        .where(ReportIndicator.report_id.in_(report_ids))
        .group_by(ReportIndicator.kind, ReportIndicator.value_hash)
    ).all()
    _upsert_indicators(db_session, campaign_id, [(kind, value, seen) for kind, value, seen in rows])


def _mark_members(db_session: Session, campaign_id: str, report_ids: list[str]) -> None:
    # Takes the reports' indicators out of the loose index: from now on their campaign answers for them.
    db_session.execute(
        update(ReportIndicator)
        .where(ReportIndicator.report_id.in_(report_ids))
        .values(campaign_id=campaign_id)
    )


def _absorb(db_session: Session, campaign_id: str, absorbed: list[str]) -> None:
    """Campaigns that met through a new report become one: members, cases and indicators move over."""
    db_session.execute(
        update(Report)
        .execution_options(synchronize_session=SYNC_MATCHED)
        .where(Report.campaign_id.in_(absorbed))
        .values(campaign_id=campaign_id)
    )
    db_session.execute(update(Case).where(Case.campaign_id.in_(absorbed)).values(campaign_id=campaign_id))
    db_session.execute(
        update(ReportIndicator)
        .where(ReportIndicator.campaign_id.in_(absorbed))
        .values(campaign_id=campaign_id)
    )
    rows = db_session.execute(
        select(CampaignIndicator.kind, CampaignIndicator.value_hash, CampaignIndicator.last_seen_at).where(
            CampaignIndicator.campaign_id.in_(absorbed)
        )
    ).all()
    db_session.execute(delete(CampaignIndicator).where(CampaignIndicator.campaign_id.in_(absorbed)))
    _upsert_indicators(db_session, campaign_id, [(kind, value, seen) for kind, value, seen in rows])


def _upsert_indicators(
    db_session: Session, campaign_id: str, rows: Sequence[tuple[str, str, datetime]]
) -> None:
    latest: dict[tuple[str, str], datetime] = {}
    for kind, value_hash, seen_at in rows:
        key = (kind, value_hash)
        latest[key] = max(seen_at, latest.get(key, seen_at))
    if not latest:
        return
    insert = postgresql_insert if db_session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(CampaignIndicator)
    column = CampaignIndicator.last_seen_at
    newer = case((statement.excluded.last_seen_at > column, statement.excluded.last_seen_at), else_=column)
    db_session.execute(
        statement.on_conflict_do_update(
            index_elements=["campaign_id", "kind", "value_hash"], set_={"last_seen_at": newer}
        ),
        [
            {"campaign_id": campaign_id, "kind": kind, "value_hash": value_hash, "last_seen_at": seen_at}
            for (kind, value_hash), seen_at in latest.items()
        ],
    )


def campaign_summary(db_session: Session, campaign_id: str) -> dict[str, object]:
    """Reports, victims and the days a campaign spans."""
    count, victims, first, last = db_session.execute(
        select(
            func.count(Report.id),
            func.count(func.distinct(Report.victim_hash)),
            func.min(Report.received_at),
            func.max(Report.received_at),
        ).where(Report.campaign_id == campaign_id)
    ).one()
    return {
        "id": campaign_id,
        "report_count": count,
        "victims": victims,
        "first_seen": _iso(first),
        "last_seen": _iso(last),
    }


def reports_since(db_session: Session, campaign_id: str, since: datetime) -> int:
    """How many of the campaign's reports arrived since `since`."""
    return (
        db_session.scalar(
            select(func.count(Report.id)).where(
                Report.campaign_id == campaign_id, Report.received_at >= since
            )
        )
        or 0
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
