"""Login rate limit, counted in the database so that it holds across every API process."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.dashboard.models import LoginAttempt


def name_key(name: str) -> str:
    """The user name as attempts are counted: case and surrounding space do not reset the count."""
    return name.strip().lower()[:100]


def login_blocked(
    db_session: Session, *, name: str, remote_addr: str, now: datetime, window: timedelta,
    per_name: int, per_address: int,
) -> bool:  # fmt: skip
    """True when this name or this address has failed too often within the window."""
    since = now - window
    by_name = db_session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.name_key == name_key(name),
            LoginAttempt.at >= since,
            LoginAttempt.succeeded.is_(False),
        )
    )
    if (by_name or 0) >= per_name:
        return True
    by_address = db_session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.remote_addr == remote_addr[:64],
            LoginAttempt.at >= since,
            LoginAttempt.succeeded.is_(False),
        )
    )
    return (by_address or 0) >= per_address


def record_attempt(
    db_session: Session, *, name: str, remote_addr: str, now: datetime, succeeded: bool
) -> None:
    """Count one attempt (the caller commits)."""
    db_session.add(
        LoginAttempt(at=now, name_key=name_key(name), remote_addr=remote_addr[:64], succeeded=succeeded)
    )


def prune_attempts(db_session: Session, *, now: datetime, keep: timedelta) -> None:
    """Forget attempts older than `keep`: they no longer count, and the table must not grow forever."""
    db_session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - keep))
