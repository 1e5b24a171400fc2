"""The analysis fields a rule may test, and which operators each kind of field accepts.

The lead's pipeline assembles a flat mapping of these dotted names from a parsed report. A value that is
unknown is None; every operator is false on None except `exists: false`.
"""

from __future__ import annotations

from enum import Enum
from types import MappingProxyType


class FieldKind(Enum):
    """How a field's value is matched."""

    TEXT = "text"  # message text: normalised once per report, keywords and regex run on the normalised view
    STR = "string"  # an exact string fact: domain, code, e164 number
    NUM = "number"  # a count, an age in days, an ASN
    BOOL = "boolean"  # a yes/no fact
    LIST = "list"  # a list of strings: entities, header anomaly codes


_T, _S, _N, _B, _L = FieldKind.TEXT, FieldKind.STR, FieldKind.NUM, FieldKind.BOOL, FieldKind.LIST

KNOWN_FIELDS: MappingProxyType[str, FieldKind] = MappingProxyType(
    {
        "text": _T,
        "subject": _T,
        "body": _T,
        "sender.raw": _T,
        "sender.kind": _S,
        "sender.email": _S,
        "sender.domain": _S,
        "sender.phone.e164": _S,
        "sender.phone.carrier": _S,
        "sender.phone.type": _S,
        "sender.phone.valid": _B,
        "sender.phone.region": _S,
        "sender.prepaid": _B,
        "sender.identity_verified": _B,
        "sender.age_days": _N,
        "sender.sent_24h": _N,
        "sender.recipients_24h": _N,
        "sender.sims_on_device": _N,
        "sender.smsc_record": _B,
        "origin.ip": _S,
        "origin.country": _S,
        "origin.asn": _N,
        "origin.foreign": _B,
        "origin.tor": _B,
        "origin.hosting": _B,
        "auth.spf": _S,
        "auth.dkim": _S,
        "auth.dmarc": _S,
        "headers.from_domain": _S,
        "headers.reply_to_domain": _S,
        "headers.return_path_domain": _S,
        "headers.anomalies": _L,
        "entities.phones": _L,
        "entities.urls": _L,
        "entities.emails": _L,
        "entities.bank_accounts": _L,
        "entities.shortened_urls": _L,
        "channel": _S,
    }
)

TEXT_FIELDS: tuple[str, ...] = tuple(name for name, kind in KNOWN_FIELDS.items() if kind is FieldKind.TEXT)

OPERATORS: frozenset[str] = frozenset(
    {"keywords", "regex", "regex_raw", "equals", "in", "lt", "gt", "exists", "in_list"}
)

ALLOWED_OPERATORS: MappingProxyType[FieldKind, frozenset[str]] = MappingProxyType(
    {
        FieldKind.TEXT: frozenset({"keywords", "regex", "regex_raw", "equals", "in", "in_list", "exists"}),
        FieldKind.STR: frozenset({"equals", "in", "regex", "in_list", "exists"}),
        FieldKind.NUM: frozenset({"equals", "in", "lt", "gt", "in_list", "exists"}),
        FieldKind.BOOL: frozenset({"equals", "exists"}),
        FieldKind.LIST: frozenset({"equals", "in", "regex", "in_list", "lt", "gt", "exists"}),
    }
)

CHANNELS: frozenset[str] = frozenset({"sms", "email"})
STATUSES: frozenset[str] = frozenset({"experimental", "test", "stable", "deprecated"})
LEVELS: tuple[str, ...] = ("low", "medium", "high", "critical")
