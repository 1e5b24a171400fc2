"""The audit log: one escaped line per entry, append-only, and every analyst action recorded."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.audit.models import AuditEntry
from service.audit.service import audit_line, escape_value, list_audit, record_audit
from service.db import Database
from tests.unit.dashboard.conftest import ORIGIN, csrf_of, post_report

FORGED = 'x"\n2026-11-25T00:00:00+00:00 actor="admin" action="login" outcome="ok"\r\u2028\x1b[2J'


def test_values_cannot_start_another_line() -> None:
    escaped = escape_value(FORGED)
    assert "\n" not in escaped
    assert "\r" not in escaped
    assert "\u2028" not in escaped
    assert "\x1b" not in escaped
    assert escaped.count('"') - escaped.count('\\"') == 2  # only the enclosing quotes are bare


def test_an_entry_is_one_line_whatever_its_content(db: Database) -> None:
    with db.session() as db_session:
        entry = record_audit(
            db_session, actor=FORGED, role="analyst", action="case.note", outcome="ok",
            remote_addr="127.0.0.1", target=FORGED, detail={"note": FORGED, "count": 3},
        )  # fmt: skip
        db_session.commit()
        line = audit_line(entry)
    assert len(line.splitlines()) == 1
    _timestamp, rest = line.split(" ", 1)
    pairs = re.findall(r'("?[a-z]+"?)=("(?:[^"\\]|\\.)*")(?: |$)', rest)
    # Every field parses as one quoted value: the forged 'actor=' inside the text stays inside its field.
    assert " ".join(f"{key}={value}" for key, value in pairs) == rest
    assert [key.strip('"') for key, _ in pairs] == [
        "actor", "role", "action", "outcome", "from", "target", "note", "count",
    ]  # fmt: skip


def test_entries_cannot_be_changed_or_deleted(db: Database) -> None:
    with db.session() as db_session:
        entry = record_audit(
            db_session, actor="ana", role="analyst", action="login", outcome="ok", remote_addr=None
        )
        db_session.commit()
        entry.outcome = "failed"
        with pytest.raises(PermissionError):
            db_session.commit()
        db_session.rollback()
        db_session.delete(entry)
        with pytest.raises(PermissionError):
            db_session.commit()


def test_case_actions_are_recorded_with_who_and_where(
    analyst: TestClient, reporter_key: str, db: Database
) -> None:
    report = post_report(analyst, reporter_key, "sms_critical.json")
    token = csrf_of(analyst.get("/dashboard/").text)
    for action in ({"action": "claim"}, {"action": "note", "note": "called the victim"}):
        analyst.post(
            f"/dashboard/cases/{report['case_id']}/act", data={"csrf_token": token, **action}, headers=ORIGIN
        )
    with db.session() as db_session:
        entries = list_audit(db_session=db_session, actor="ana")
        actions = [(entry.action, entry.target, entry.remote_addr) for entry in entries]
        assert db_session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "case.note")) == {
            "resolution": None, "assignee": None, "note_chars": 17,
        }  # fmt: skip
    assert actions == [
        ("case.note", report["case_id"], "testclient"),
        ("case.claim", report["case_id"], "testclient"),
        ("login", None, "testclient"),
    ]
