"""Campaigns: reports linked by a shared sender, callback number, URL, account, origin IP or template."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The one open case analysts work for the whole campaign.
    case_id: Mapped[str | None] = mapped_column(String(36), default=None)


class ReportIndicator(Base):
    """One linkable fact of a report, stored as a keyed hash so it outlives the purge of the report's text."""

    __tablename__ = "report_indicators"
    __table_args__ = (
        # Correlation looks only at reports in no campaign yet; members are found through CampaignIndicator.
        Index(
            "ix_report_indicators_loose",
            "value_hash",
            "seen_at",
            sqlite_where=text("campaign_id IS NULL"),
            postgresql_where=text("campaign_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value_hash: Mapped[str] = mapped_column(String(32))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The report's campaign, copied here so the loose index above drops a report once it joins one.
    campaign_id: Mapped[str | None] = mapped_column(String(36), default=None)


class CampaignIndicator(Base):
    """The indicators of a whole campaign, one row per value: a new report finds a campaign of 20,000
    reports with one indexed look-up per indicator, instead of reading 20,000 member rows."""

    __tablename__ = "campaign_indicators"
    # Looked up by value hash alone: the HMAC covers `kind:value`, so equal hashes are of one kind.
    __table_args__ = (Index("ix_campaign_indicators_lookup", "value_hash", "last_seen_at"),)

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    value_hash: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
