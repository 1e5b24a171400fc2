"""Demo credentials for `make run`: an API key and an analyst login, kept under var/ between runs."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from sqlalchemy import select

from service.auth.models import User
from service.auth.service import add_user, authenticate_key, create_key
from service.config import get_settings
from service.db import Database

DEMO_REPORTER = "demo-operator"
DEMO_ANALYST = "analyst"


def print_demo_credentials(db: Database, *, base_url: str) -> None:
    """Create (once) and print the demo key and login; a development convenience only."""
    path = get_settings().var_dir / "demo-credentials.json"
    credentials = _load(path)
    with db.session() as db_session:
        key = credentials.get("api_key")
        if not key or authenticate_key(db_session=db_session, key=key) is None:
            key = create_key(
                db_session=db_session,
                reporter_name=DEMO_REPORTER,
                scopes=["reports:write", "reports:read", "cases:read", "cases:write"],
            )
        if db_session.scalar(select(User).where(User.name == DEMO_ANALYST)) is None:
            credentials["analyst_password"] = secrets.token_urlsafe(12)
            add_user(
                db_session=db_session,
                name=DEMO_ANALYST,
                role="analyst",
                password=credentials["analyst_password"],
            )
        db_session.commit()
    credentials["api_key"] = key
    _save(path, credentials)
    print(f"demo API key:   {key}")
    print(f"demo analyst:   {DEMO_ANALYST} / {credentials.get('analyst_password', '(set earlier)')}")
    print(
        f"try:  curl -s -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' "
        f"-d @tests/files/reports/sms_threat.json {base_url}/v1/reports"
    )


def _load(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(path: Path, credentials: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(credentials, handle)
