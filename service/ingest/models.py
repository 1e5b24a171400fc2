"""Stored reports: the raw input exactly as received, and its analysis."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, PortableJSON, UTCDateTime, utcnow


class Report(Base):
    __tablename__ = "reports"
    # NULLs are distinct in both SQLite and PostgreSQL, so reports without a reference or key never collide.
    __table_args__ = (
        UniqueConstraint("reporter_id", "reference"),
        UniqueConstraint("reporter_id", "idempotency_key"),
        # Campaign members still waiting for the campaign's case: a handful, whatever the campaign's size.
        Index(
            "ix_reports_campaign_caseless",
            "campaign_id",
            sqlite_where=text("case_id IS NULL"),
            postgresql_where=text("case_id IS NULL"),
        ),
        # The escalation ladder counts a campaign's reports within hours.
        Index("ix_reports_campaign_received", "campaign_id", "received_at"),
        # Reports whose indicator rows triage has still to write (service.campaigns.service.write_indicators).
        Index(
            "ix_reports_without_indicators",
            "id",
            sqlite_where=text("indicators_at IS NULL"),
            postgresql_where=text("indicators_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Indexed as the first column of both unique constraints: no index of its own (migration 0007).
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id"))
    reference: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of the canonical request: a key or reference reused for other content is a 409, not a replay.
    request_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(10))
    content_type: Mapped[str] = mapped_column(String(100))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    analysis: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    ruleset_version: Mapped[str] = mapped_column(String(80))
    score: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(10), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True, default=None)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Indexed as the first column of ix_reports_campaign_received: no index of its own (migration 0007).
    campaign_id: Mapped[str | None] = mapped_column(String(36), default=None)
    # A keyed hash of the victim's number: campaigns count victims without keeping who they are.
    victim_hash: Mapped[str | None] = mapped_column(String(32), default=None)
    enriched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When triage wrote the report's `report_indicators` rows (migration 0008); NULL until then.
    indicators_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Earlier scores of this report under earlier rulesets, oldest first: [{version, score, level, at}].
    rescores: Mapped[list[dict[str, Any]] | None] = mapped_column(PortableJSON, default=None)
    # Set when retention removed the message text and numbers; the keyed-hash indicators remain.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
