"""Template filters: dates, durations and unknown facts, shown the same way on every page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from jinja2 import Environment, Undefined

UNKNOWN = "unknown"


def show(value: Any) -> str:
    """A fact for display: None is 'unknown' (never blank or 'no'), booleans are yes/no."""
    if value is None or value == "" or isinstance(value, Undefined):
        return UNKNOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def when(value: datetime | None) -> str:
    """A UTC timestamp to the minute."""
    return UNKNOWN if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def duration(value: timedelta | float | None) -> str:
    """A duration as '3d 4h', '2h 05m' or '7m'; negative durations keep their sign."""
    if value is None:
        return UNKNOWN
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    sign, seconds = ("-" if seconds < 0 else ""), abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    return f"{sign}{minutes}m"


def install_filters(env: Environment) -> None:
    env.filters["show"] = show
    env.filters["when"] = when
    env.filters["duration"] = duration
