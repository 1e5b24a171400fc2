"""The linkable facts of an analysed report: what two reports must share to belong to one campaign."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_PER_KIND = 20
# Kinds that link on one shared value; a template links only when two sketch hashes agree.
EXACT_KINDS = ("sender", "sender_email", "callback", "url", "bank_account", "origin_ip")
TEMPLATE = "template"


def report_indicators(analysis: dict[str, Any], sketch: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(kind, value) pairs, values normalised so that the same fact always reads the same; `sketch` is the
    message's template sketch when triage computed it (an SMS's), else the one the analysis holds."""
    found: list[tuple[str, str]] = []
    sender = analysis.get("sender") or {}
    phone = sender.get("phone") or {}
    if phone.get("e164"):
        found.append(("sender", phone["e164"]))
    elif sender.get("kind") == "alphanumeric" and sender.get("raw"):
        found.append(("sender", str(sender["raw"]).casefold()))
    if sender.get("email"):
        found.append(("sender_email", str(sender["email"]).casefold()))
    entities = analysis.get("entities") or {}
    found += _values("callback", entities.get("phones"), "value")
    found += _values("url", entities.get("urls"), "value")
    found += _values("bank_account", entities.get("bank_accounts"), "number")
    origin_ip = (analysis.get("origin") or {}).get("ip")
    if origin_ip:
        found.append(("origin_ip", origin_ip))
    if sketch is None:
        sketch = stored_sketch(analysis) or ()
    found += [(TEMPLATE, value) for value in sketch]
    return list(dict.fromkeys(found))


def stored_sketch(analysis: dict[str, Any]) -> list[str] | None:
    """The template sketch an analysis holds (an email's, and an SMS's stored before triage took it over)."""
    template = analysis.get("template")
    return list(template.get("sketch") or []) if isinstance(template, dict) else None


def _values(kind: str, items: Any, key: str) -> list[tuple[str, str]]:
    values = []
    for item in (items or [])[:MAX_PER_KIND]:
        value = item.get(key) if isinstance(item, dict) else item
        if value:
            values.append((kind, str(value).casefold()))
    return values
