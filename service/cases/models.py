"""Cases: what an analyst works. A high-risk report opens one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, PortableJSON, UTCDateTime, utcnow

STATUSES = ("new", "triage", "escalated", "closed")
RESOLUTIONS = (
    "threat_confirmed",
    "extortion",
    "scam",
    "harassment",
    "not_a_threat",
    "duplicate",
    "referred_to_police",
    "referred_to_operator_sim_block",
)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # Triage looks up a campaign's open case among the thousands folded into it (closed as duplicates).
        Index(
            "ix_cases_campaign_open",
            "campaign_id",
            sqlite_where=text("status <> 'closed'"),
            postgresql_where=text("status <> 'closed'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    lane: Mapped[str] = mapped_column(String(20), index=True)
    level: Mapped[str] = mapped_column(String(10))
    score: Mapped[float] = mapped_column(Float)
    report_count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    enriched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolution: Mapped[str | None] = mapped_column(String(40), default=None)
    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaigns.id"), index=True, default=None)
    assignee: Mapped[str | None] = mapped_column(String(100), default=None)
    # A case folded into its campaign's case points there; it is closed as a duplicate.
    merged_into: Mapped[str | None] = mapped_column(String(36), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class CaseEvent(Base):
    """The case timeline: every transition, verdict, note, link and escalation, append-only."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    detail: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
