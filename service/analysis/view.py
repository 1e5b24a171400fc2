"""A channel-neutral view of one message: what the contract shows, and the fields the rules see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNKNOWN_AUTH: dict[str, Any] = {"spf": None, "dkim": None, "dmarc": None}


def unknown_origin() -> dict[str, Any]:
    """An origin where the facts allow no answer: every field null, no relays."""
    return {
        "ip": None,
        "country": None,
        "asn": None,
        "as_org": None,
        "foreign": None,
        "tor": None,
        "hosting": None,
        "relays": [],
    }


@dataclass(frozen=True)
class MessageView:
    text: str
    sender: dict[str, Any]
    origin: dict[str, Any] = field(default_factory=unknown_origin)
    auth: dict[str, Any] = field(default_factory=lambda: dict(UNKNOWN_AUTH))
    email: dict[str, Any] | None = None
    defects: tuple[str, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)


def prefixed(prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    """Flatten one level of a dict into dotted rule fields."""
    return {
        f"{prefix}.{name}": value for name, value in values.items() if not isinstance(value, (dict, list))
    }
