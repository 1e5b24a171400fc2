"""Indicator and victim rows, keyed-hashed before they are stored.

Phone numbers live in a space small enough to brute-force a plain SHA-256, so values are hashed with an
HMAC under the service's secret key: rows can still be joined on equal values, but a copy of the table alone
gives no number back. Rotating SECRET_KEY therefore starts campaign linking afresh.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from service.analysis.indicators import report_indicators

HASH_HEX = 32


def keyed_hash(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of `kind:value`, truncated to 128 bits."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:HASH_HEX]


def indicator_rows(
    report_id: str, analysis: dict[str, Any], *, key: bytes, now: datetime
) -> list[dict[str, Any]]:
    """The `report_indicators` rows of one report."""
    return [
        {"report_id": report_id, "kind": kind, "value_hash": keyed_hash(key, kind, value), "seen_at": now}
        for kind, value in report_indicators(analysis)
    ]


def victim_hash(msisdn: str | None, *, key: bytes) -> str | None:
    """A keyed hash of the victim's number in one canonical form (84… for a Vietnamese 0… number)."""
    digits = "".join(char for char in (msisdn or "") if char.isdigit())
    if not digits:
        return None
    if digits.startswith("0") and not digits.startswith("00"):
        digits = "84" + digits[1:]
    return keyed_hash(key, "victim", digits.lstrip("0"))
