"""Campaigns: reports linked by a shared sender, callback number, URL, account, origin IP or template."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
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
    __table_args__ = (Index("ix_report_indicators_lookup", "kind", "value_hash", "seen_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value_hash: Mapped[str] = mapped_column(String(32))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
