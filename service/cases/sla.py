"""Review deadlines in business hours of the operator's time zone (Asia/Ho_Chi_Minh by default)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS_SCANNED = 60


@dataclass(frozen=True)
class SlaPolicy:
    """Hours of review allowed per lane, counted only inside working hours on working days."""

    hours_by_lane: dict[str, float] = field(
        default_factory=lambda: {"urgent": 2.0, "review": 8.0, "watch": 40.0}
    )
    timezone: str = "Asia/Ho_Chi_Minh"
    day_start: time = time(8, 0)
    day_end: time = time(17, 30)
    workdays: frozenset[int] = frozenset(
        {0, 1, 2, 3, 4, 5}
    )  # Monday-Saturday: Vietnamese offices open Saturdays

    def due_at(self, lane: str, opened_at: datetime) -> datetime | None:
        """When a case opened at `opened_at` in `lane` is due; None for a lane without an SLA."""
        hours = self.hours_by_lane.get(lane)
        if hours is None:
            return None
        return add_business_hours(opened_at, hours, self)


def add_business_hours(start: datetime, hours: float, policy: SlaPolicy) -> datetime:
    """`start` plus `hours` of working time, returned in UTC."""
    zone = ZoneInfo(policy.timezone)
    cursor = start.astimezone(zone)
    remaining = timedelta(hours=hours)
    for _ in range(MAX_DAYS_SCANNED):
        day_open = cursor.replace(
            hour=policy.day_start.hour, minute=policy.day_start.minute, second=0, microsecond=0
        )
        day_close = cursor.replace(
            hour=policy.day_end.hour, minute=policy.day_end.minute, second=0, microsecond=0
        )
        if cursor.weekday() in policy.workdays and cursor < day_close:
            cursor = max(cursor, day_open)
            if cursor + remaining <= day_close:
                return (cursor + remaining).astimezone(UTC)
            remaining -= day_close - cursor
        cursor = (cursor + timedelta(days=1)).replace(
            hour=policy.day_start.hour, minute=policy.day_start.minute, second=0, microsecond=0
        )
    return cursor.astimezone(UTC)
