"""Server-side login sessions: the cookie holds a random token, the database holds its hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.auth.models import User
from service.dashboard.models import DashboardSession

# Writing last_seen_at on every page view would make each read a write; a minute of slack is harmless.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The logged-in user of one request."""

    user_id: int
    name: str
    role: str
    csrf_token: str
    token_hash: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def token_hash(token: str) -> str:
    """SHA-256 of the cookie value: a stolen database does not give live cookies."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    db_session: Session, *, user: User, remote_addr: str | None, now: datetime, old_token: str | None
) -> str:
    """A fresh session for `user` (the old one, if any, is dropped: the id rotates at login)."""
    if old_token:
        end_session(db_session, token=old_token)
    token = secrets.token_urlsafe(32)
    db_session.add(
        DashboardSession(
            token_hash=token_hash(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            remote_addr=remote_addr,
        )
    )
    db_session.flush()
    return token


def load_session(
    db_session: Session, *, token: str, now: datetime, idle: timedelta, max_age: timedelta
) -> Viewer | None:
    """The viewer behind a live cookie; an idle, expired or disabled one is deleted and gives None."""
    row = db_session.execute(
        select(DashboardSession, User)
        .join(User, User.id == DashboardSession.user_id)
        .where(DashboardSession.token_hash == token_hash(token))
    ).first()
    if row is None:
        return None
    stored, user = row
    if now - stored.last_seen_at > idle or now - stored.created_at > max_age or user.disabled_at is not None:
        db_session.delete(stored)
        db_session.commit()
        return None
    if now - stored.last_seen_at > TOUCH_EVERY:
        stored.last_seen_at = now
        db_session.commit()
    return Viewer(user.id, user.name, user.role, stored.csrf_token, stored.token_hash)


def end_session(db_session: Session, *, token: str) -> None:
    """Forget a session (logout)."""
    db_session.execute(delete(DashboardSession).where(DashboardSession.token_hash == token_hash(token)))


def prune_sessions(db_session: Session, *, now: datetime, idle: timedelta) -> None:
    """Delete sessions idle for longer than the timeout (they would be refused anyway)."""
    db_session.execute(delete(DashboardSession).where(DashboardSession.last_seen_at < now - idle))
