"""Demo data for `make run`: an API key, an analyst and an admin login, and a queue of demo reports.

Credentials are kept under var/ between runs. The demo reports are posted over the real API once the server
answers, with fixed references, so a restart replays them instead of duplicating them.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from service.auth.models import User
from service.auth.service import add_user, authenticate_key, create_key
from service.config import get_settings
from service.db import Database

DEMO_REPORTER = "demo-operator"
DEMO_ANALYST = "analyst"
DEMO_ADMIN = "admin"
log = logging.getLogger("triage.demo")

# Invented messages in the shapes analysts meet: death threats, extortion, bank and police impersonation.
DEMO_SMS = (
    (
        "0961234567",
        "Mày còn không trả 50 triệu trước thứ 6 thì tao sẽ giết cả nhà mày. Chuyển vào STK "
        "0011004455667 Vietcombank.",
        {"subscription": "prepaid", "identity_verified": False, "sent_24h": 412, "recipients_24h": 388},
    ),
    (
        "0961234567",
        "Tao biết con mày học trường nào. Chuyển 30 triệu vào STK 0011004455667 không thì tao sẽ giết nó.",
        {"subscription": "prepaid", "identity_verified": False, "sent_24h": 380},
    ),
    ("0971112233", "Tao sẽ giết mày nếu mày còn báo công an. Liên hệ 0971112233.", None),
    (
        "Vietcombank",
        "Vietcombank: tai khoan cua quy khach bi khoa. Xac minh tai https://vcb-xacminh.top/login "
        "trong 24h de tranh bi phong toa.",
        None,
    ),
    (
        "0888999000",
        "Day la Cong an TP. Ban lien quan vu rua tien, chuyen toan bo tien vao STK 1903555777 "
        "Techcombank de dieu tra, neu khong se bi bat.",
        {"subscription": "prepaid", "identity_verified": False},
    ),
    ("0909123456", "Chị ơi mai em qua lấy hàng nhé, nhớ để ở cổng giúp em.", None),
    ("0912000111", "Tin nóng: cảnh sát bắt nhóm đối tượng đe dọa giết người ở Hà Nội.", None),
)

# An invented extortion email sent through a Tor exit, so the origin and SPF/DKIM/DMARC panels have content.
DEMO_EMAIL = (
    "Received: from mx1.demo-isp.example (mx1.demo-isp.example [10.1.2.3])\r\n"
    "\tby inbox.demo-isp.example with ESMTP id D3M0001; Wed, 25 Nov 2026 08:01:10 +0700\r\n"
    "Received: from relay.unknown.example (relay.unknown.example [185.220.101.4])\r\n"
    "\tby mx1.demo-isp.example with ESMTP id D3M0000; Wed, 25 Nov 2026 08:01:05 +0700\r\n"
    "Authentication-Results: mx1.demo-isp.example; spf=fail smtp.mailfrom=demo-bulk.example;\r\n"
    "\tdkim=none; dmarc=fail header.from=vietcombank.com.vn\r\n"
    'From: "Vietcombank" <canhbao@vietcombank.com.vn>\r\n'
    "To: khachhang@demo-isp.example\r\n"
    "Subject: Canh bao: tai khoan cua ban se bi khoa\r\n"
    "Date: Wed, 25 Nov 2026 08:01:00 +0700\r\n"
    "Message-ID: <demo-1@demo-bulk.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Chúng tôi có video của bạn. Chuyển 20 triệu vào STK 1903555777 Techcombank trong 24 giờ, "
    "nếu không tao sẽ giết cả nhà mày và công bố video.\r\n"
)


def print_demo_credentials(db: Database, *, base_url: str) -> None:
    """Create (once) and print the demo key and logins, and seed the demo queue once the server is up."""
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
        for name, role in ((DEMO_ANALYST, "analyst"), (DEMO_ADMIN, "admin")):
            if db_session.scalar(select(User).where(User.name == name)) is None:
                credentials[f"{role}_password"] = secrets.token_urlsafe(12)
                add_user(
                    db_session=db_session, name=name, role=role, password=credentials[f"{role}_password"]
                )
        db_session.commit()
    credentials["api_key"] = key
    _save(path, credentials)
    _print(base_url, key, credentials)
    local_url = base_url.replace("://0.0.0.0:", "://127.0.0.1:")
    threading.Thread(target=seed_demo_reports, args=(local_url, key), daemon=True, name="demo-seed").start()


def _print(base_url: str, key: str, credentials: dict[str, str]) -> None:
    rule = "=" * 72
    print(rule)
    unknown = "(see var/demo-credentials.json)"
    print(f"  Dashboard:  {base_url}/dashboard/")
    print(f"  Log in as:  {DEMO_ANALYST} / {credentials.get('analyst_password', unknown)}")
    print(f"  Admin:      {DEMO_ADMIN} / {credentials.get('admin_password', unknown)}")
    print("  Demo reports are being posted: open the dashboard, click a case, give a verdict.")
    print(rule)
    print(f"demo API key:   {key}")
    print(
        f"try:  curl -s -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' "
        f"-d @tests/files/reports/sms_threat.json {base_url}/v1/reports"
    )


def demo_reports() -> list[dict[str, Any]]:
    """The demo report bodies, with fixed references (a re-post is a replay, not a duplicate)."""
    return [
        {
            "channel": "sms",
            "reference": f"demo-{index:02d}",
            "reporter": {"msisdn": f"09870001{index:02d}"},
            "sms": {"sender": sender, "text": text, **({"operator_facts": facts} if facts else {})},
        }
        for index, (sender, text, facts) in enumerate(DEMO_SMS, start=1)
    ] + [{"channel": "email", "reference": "demo-email-01", "email": {"raw": DEMO_EMAIL}}]


def seed_demo_reports(base_url: str, key: str, *, timeout: float = 60.0) -> int:
    """Wait for the server, then post the demo reports; returns how many were accepted."""
    headers = {"Authorization": f"Bearer {key}"}
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per demo request is noise
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=10) as client:
        while time.monotonic() < deadline:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        accepted = 0
        for body in demo_reports():
            try:
                accepted += client.post("/v1/reports", json=body, headers=headers).status_code in {200, 201}
            except httpx.HTTPError as exc:
                log.warning("demo report not posted: %s", exc)
    log.info("demo: %d demo reports in the queue's database", accepted)
    return accepted


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
