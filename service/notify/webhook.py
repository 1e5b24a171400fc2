"""The webhook notice for critical cases: a signed JSON POST that carries ids and levels, never message text.

The receiver (an operator's on-call system) gets enough to page someone and a link to the case; the text and
the numbers stay in the service.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

TIMEOUT_SECONDS = 5.0
SIGNATURE_HEADER = "X-Triage-Signature"


class WebhookError(RuntimeError):
    """The receiver did not take the notice; the job raises it so that RQ retries with backoff."""


def case_payload(case: dict[str, Any], *, public_url: str) -> dict[str, Any]:
    """The notice for one case: identifiers, level, counts and a link."""
    campaign = case.get("campaign") or {}
    return {
        "event": "case.critical",
        "id": f"{case['id']}:critical",  # stable, so the receiver can drop a retried duplicate
        "case_id": case["id"],
        "level": case["level"],
        "lane": case["lane"],
        "status": case["status"],
        "report_count": case["report_count"],
        "campaign": {
            key: campaign.get(key) for key in ("id", "report_count", "victims", "first_seen", "last_seen")
        }
        if campaign
        else None,
        "sla_due_at": case["sla_due_at"],
        "url": f"{public_url.rstrip('/')}/dashboard/cases/{case['id']}",
    }


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC>` of the body, for the receiver to check."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(url: str, payload: dict[str, Any], *, secret: str | None) -> None:
    """POST the notice; any answer but 2xx, or no answer, raises WebhookError."""
    body = json.dumps(payload, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "threat-triage"}
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise WebhookError(f"webhook unreachable: {type(exc).__name__}") from None
    if not response.is_success:
        raise WebhookError(f"webhook answered {response.status_code}")
