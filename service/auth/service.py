"""API keys and users: creation, verification, revocation."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.models import ApiKey, Reporter, User
from service.db import utcnow

SCOPES = ("reports:write", "reports:read", "cases:read", "cases:write", "rules:admin")
ROLES = ("analyst", "admin")
KEY_PREFIX = "tt_"
# 32 random bytes: 256 bits, twice the 128 the contract asks for.
KEY_BYTES = 32
_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a reporter's key and what it may do."""

    key_id: int
    reporter_id: int
    reporter_name: str
    scopes: frozenset[str]


def hash_key(key: str) -> str:
    """SHA-256 is enough for a 256-bit random key: no dictionary to attack, and look-up stays O(1)."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(*, db_session: Session, reporter_name: str, scopes: list[str] | None = None) -> str:
    """Create a key for a reporter (created if new); the plaintext is returned once and never stored."""
    scopes = scopes or ["reports:write"]
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}; choose from {', '.join(SCOPES)}")
    reporter = db_session.scalar(select(Reporter).where(Reporter.name == reporter_name))
    if reporter is None:
        reporter = Reporter(name=reporter_name)
        db_session.add(reporter)
        db_session.flush()
    key = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
    db_session.add(
        ApiKey(reporter_id=reporter.id, key_hash=hash_key(key), prefix=key[:10], scopes=sorted(set(scopes)))
    )
    db_session.flush()
    return key


def authenticate_key(*, db_session: Session, key: str) -> Principal | None:
    """The principal behind a live key, or None for an unknown or revoked one."""
    row = db_session.execute(
        select(ApiKey, Reporter.name).join(Reporter).where(ApiKey.key_hash == hash_key(key))
    ).first()
    if row is None:
        return None
    api_key, reporter_name = row
    if api_key.revoked_at is not None or not hmac.compare_digest(api_key.key_hash, hash_key(key)):
        return None
    return Principal(api_key.id, api_key.reporter_id, reporter_name, frozenset(api_key.scopes))


def revoke_key(*, db_session: Session, key_prefix: str) -> int:
    """Revoke every live key whose prefix matches; returns how many."""
    keys = db_session.scalars(
        select(ApiKey).where(ApiKey.prefix == key_prefix, ApiKey.revoked_at.is_(None))
    ).all()
    for api_key in keys:
        api_key.revoked_at = utcnow()
    db_session.flush()
    return len(keys)


def add_user(*, db_session: Session, name: str, role: str, password: str) -> User:
    """Create a dashboard user with an argon2id password hash."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise ValueError("the password must have at least 8 characters")
    if db_session.scalar(select(User).where(User.name == name)) is not None:
        raise ValueError(f"user {name!r} already exists")
    user = User(name=name, role=role, password_hash=_hasher.hash(password))
    db_session.add(user)
    db_session.flush()
    return user


def verify_password(*, user: User, password: str) -> bool:
    """Check a password against the stored argon2 hash."""
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False
