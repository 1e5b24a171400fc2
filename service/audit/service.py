"""Recording and reading the audit log. Entries are only ever added: there is no update or delete here,
and the ORM refuses both (see `_refuse_change`)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from service.audit.models import AuditEntry
from service.db import utcnow

log = logging.getLogger("triage.audit")
MAX_FIELD = 500
MAX_PAGE = 500


def record_audit(
    db_session: Session, *, actor: str, role: str, action: str, outcome: str, remote_addr: str | None,
    target: str | None = None, detail: dict[str, Any] | None = None, at: datetime | None = None,
) -> AuditEntry:  # fmt: skip
    """Append one entry (the caller commits) and write it as one escaped log line."""
    entry = AuditEntry(
        at=at or utcnow(),
        actor=actor[:100],
        role=role[:20],
        action=action[:50],
        target=None if target is None else target[:100],
        outcome=outcome[:20],
        remote_addr=None if remote_addr is None else remote_addr[:64],
        detail={key: _clip(value) for key, value in (detail or {}).items()},
    )
    db_session.add(entry)
    log.info("%s", audit_line(entry))
    return entry


def audit_line(entry: AuditEntry) -> str:
    """The entry as exactly one line: every value is escaped, so no text in it can start another line."""
    parts = [
        (entry.at or utcnow()).isoformat(),
        f"actor={escape_value(entry.actor)}",
        f"role={escape_value(entry.role)}",
        f"action={escape_value(entry.action)}",
        f"outcome={escape_value(entry.outcome)}",
        f"from={escape_value(entry.remote_addr or '-')}",
        f"target={escape_value(entry.target or '-')}",
    ]
    parts += [
        f"{escape_value(key)}={escape_value(str(value))}" for key, value in (entry.detail or {}).items()
    ]
    return " ".join(parts)


def escape_value(value: str) -> str:
    """A quoted value with backslashes, quotes, and every control or line-separator character escaped."""
    out = []
    for char in value:
        if char in {"\\", '"'}:
            out.append("\\" + char)
        elif char.isprintable() and char not in {"\u2028", "\u2029"}:
            out.append(char)
        else:
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def list_audit(
    *, db_session: Session, actor: str | None = None, action: str | None = None, limit: int = 200
) -> list[AuditEntry]:
    """The newest entries first, optionally for one actor or action."""
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    query = query.order_by(AuditEntry.id.desc()).limit(min(limit, MAX_PAGE))
    return list(db_session.scalars(query).all())


def _clip(value: Any) -> Any:
    if isinstance(value, str):
        return value[:MAX_FIELD]
    if isinstance(value, bool | int | float) or value is None:
        return value
    return str(value)[:MAX_FIELD]


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_change(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    raise PermissionError(f"the audit log is append-only (entry {target.id})")
