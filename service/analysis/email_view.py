"""The view of an email: who it claims to be from, where it really came from, and what it says."""

from __future__ import annotations

from typing import Any

from service.analysis.view import MessageView, unknown_origin
from service.parsing.email import Address, EmailLimits, ParsedEmail, TrustConfig, parse_email
from service.parsing.ip_origin import IpOriginLookup

GEO_KEYS = ("country", "asn", "as_org", "foreign", "tor", "hosting")


def email_view(
    raw: bytes, *, limits: EmailLimits, trust: TrustConfig, ip_lookup: IpOriginLookup, home_region: str
) -> MessageView:
    """Parse the email (bounded) and place its origin; raises EmailParseError when it is not an email."""
    parsed = parse_email(raw, limits=limits, trust=trust)
    email_json = parsed.to_dict()
    sender_address = parsed.from_.addr_spec if parsed.from_ else None
    sender = {"kind": "email", "raw": sender_address, "phone": None, "email": sender_address}
    origin = _origin(parsed, ip_lookup)
    text = email_text(parsed)
    return MessageView(
        text=text,
        sender=sender,
        origin=origin,
        auth=parsed.auth.to_dict(),
        email=_email_summary(email_json),
        defects=tuple(parsed.defects),
        fields=_fields(parsed, origin, text),
    )


def email_text(parsed: ParsedEmail) -> str:
    """What the rules read of an email: its subject and body text."""
    return "\n".join(part for part in (parsed.subject, parsed.body_text) if part)


def _origin(parsed: ParsedEmail, ip_lookup: IpOriginLookup) -> dict[str, Any]:
    origin = unknown_origin()
    relays = []
    for relay in parsed.relays:
        hop = relay.to_dict()
        if hop.get("ip"):
            info = ip_lookup.lookup(hop["ip"]).to_dict()
            hop.update({key: info.get(key) for key in GEO_KEYS})
        relays.append(hop)
    origin["relays"] = relays
    origin["ip_rule"] = parsed.origin_rule
    origin["provider_ip"] = parsed.provider_ip
    origin["provider_ip_rule"] = parsed.provider_ip_rule
    if parsed.origin_ip:
        info = ip_lookup.lookup(parsed.origin_ip).to_dict()
        origin.update({key: info.get(key) for key in GEO_KEYS})
        origin["ip"] = parsed.origin_ip
        origin["scope"] = info.get("scope")
    return origin


def _email_summary(email_json: dict[str, Any]) -> dict[str, Any]:
    # Relays and auth appear under origin and auth; the body text is not repeated in the analysis.
    skipped = {
        "relays",
        "auth",
        "body_text",
        "headers",
        "origin_ip",
        "origin_rule",
        "provider_ip",
        "provider_ip_rule",
    }
    return {key: value for key, value in email_json.items() if key not in skipped}


def _domain(address: Address | None) -> str | None:
    return address.domain if address is not None else None


def _fields(parsed: ParsedEmail, origin: dict[str, Any], text: str) -> dict[str, Any]:
    sender_address = parsed.from_.addr_spec if parsed.from_ else None
    reply_to = parsed.reply_to[0] if parsed.reply_to else None
    return {
        "text": text,
        "subject": parsed.subject,
        "body": parsed.body_text,
        "sender.kind": "email",
        "sender.raw": sender_address,
        "sender.email": sender_address,
        "sender.domain": _domain(parsed.from_),
        "headers.from_domain": _domain(parsed.from_),
        "headers.reply_to_domain": _domain(reply_to),
        "headers.return_path_domain": _domain(parsed.return_path),
        "headers.anomalies": [anomaly.code for anomaly in parsed.anomalies],
        **{f"origin.{key}": origin.get(key) for key in ("ip", *GEO_KEYS)},
        **{f"auth.{key}": value for key, value in parsed.auth.to_dict().items()},
    }
