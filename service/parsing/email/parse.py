"""`parse_email`: the whole analysis of one raw email, pure and bounded."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from service.parsing.email import trust as trust_mod
from service.parsing.email.addresses import Address, parse_address_list
from service.parsing.email.anomalies import HeaderFacts, find_anomalies
from service.parsing.email.auth_results import Auth, authentication_findings
from service.parsing.email.chain import build_chain, parse_date
from service.parsing.email.charsets import decode_encoded_words, header_text
from service.parsing.email.headers import RawField, looks_like_header_block, split_message
from service.parsing.email.html_text import html_links, html_to_text
from service.parsing.email.limits import EmailLimits, EmailParseError
from service.parsing.email.mime import walk
from service.parsing.email.model import ParsedEmail, Relay
from service.parsing.email.trust import TrustConfig
from service.parsing.email.urls import collect_urls

_ADDRESS_FIELDS = ("from", "sender", "reply-to", "return-path", "to")
# Machine-written fields: never RFC 2047 text, often large; decoding them only costs time.
_OPAQUE_PREFIXES = ("x-", "arc-", "dkim-", "authentication-results", "received-spf", "list-")
_WORD_BUDGET_FACTOR = 5
_HTML_BUDGET_FACTOR = 10  # all HTML parts together: 10 x the text scanned per part (500 KB)
_DEFAULT_LIMITS = EmailLimits()
_DEFAULT_TRUST = TrustConfig()
_UNDECODED = frozenset({"received", "message-id", "date", "references", "in-reply-to", "dkim-signature"})


class _Origin(NamedTuple):
    relays: list[Relay]
    origin_ip: str | None
    origin_rule: str
    provider_ip: str | None
    provider_rule: str
    provider: str | None
    auth: Auth
    received_dates: list[datetime]
    unparsed: int
    auth_by: str | None  # who wrote the Authentication-Results we read, when not the receiving side


def _one(found: list[Address]) -> Address | None:
    return found[0] if found else None


def _first_fields(fields: list[RawField]) -> dict[str, RawField]:
    first: dict[str, RawField] = {}
    for item in fields:
        first.setdefault(item.key, item)
    return first


def _values(fields: list[RawField], key: str, limit: int) -> list[str]:
    return [header_text(f.unfolded()[:limit]) for f in fields if f.key == key]


def _decoded_headers(
    fields: list[RawField], limits: EmailLimits, defects: list[str]
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    budget = limits.max_encoded_words * _WORD_BUDGET_FACTOR  # for the whole header, not per field
    for item in fields:
        value = item.unfolded()[: limits.max_header_value_chars]
        words = value.count(b"=?")
        if item.key in _UNDECODED or item.key.startswith(_OPAQUE_PREFIXES) or not words:
            out.append((item.name, header_text(value)))
        elif words > budget and item.key != "subject":  # the subject is bounded on its own
            defects.append("too many encoded words in the header; the rest left encoded")
            out.append((item.name, header_text(value)))
        else:
            budget -= words
            out.append((item.name, decode_encoded_words(value, limits.max_encoded_words, defects)))
    return out


def _addresses(item: RawField | None, limits: EmailLimits, defects: list[str]) -> list[Address]:
    if item is None:
        return []
    value = header_text(item.unfolded()[: limits.max_header_value_chars])
    return parse_address_list(
        value,
        field=item.name,
        max_addresses=limits.max_addresses,
        max_words=limits.max_encoded_words,
        defects=defects,
    )


def _check_input(raw: bytes, limits: EmailLimits) -> None:
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise EmailParseError("an email must be given as bytes")
    if len(raw) > limits.max_bytes:
        raise EmailParseError(f"email larger than {limits.max_bytes} bytes")
    if not raw.strip():
        raise EmailParseError("empty input")


def _origin(fields: list[RawField], limits: EmailLimits, trust: TrustConfig, defects: list[str]) -> _Origin:
    """Relay chain, trust, origin IP, provider IP and the receiving side's verdicts."""
    chain = build_chain(fields, limits.max_received, defects)
    if chain.unparseable:
        defects.append(f"{chain.unparseable} Received header(s) could not be parsed")
    findings = authentication_findings(
        _values(fields, "authentication-results", 8192), _values(fields, "received-spf", 8192)
    )
    relays = trust_mod.assign_trust(chain.relays, trust)
    provider_ip, provider_rule, boundary = trust_mod.provider_ip(
        relays, trust, findings.sender_ip, findings.spf_client_ip
    )
    if trust.trust_provider_hops:
        relays = trust_mod.trust_provider_hops(relays, boundary)
    provider = trust_mod.recipient_provider(relays, trust)
    origin_ip, origin_rule = trust_mod.origin(relays)
    foreign_auth = findings.present and not trust_mod.receiver_wrote_auth(
        findings.authserv_id, relays, trust, boundary
    )
    return _Origin(
        relays, origin_ip, origin_rule, provider_ip, provider_rule,
        provider[0] if provider else None, findings.auth, chain.received_dates, chain.unparseable,
        (findings.authserv_id or "(no authserv-id)") if foreign_auth else None,
    )  # fmt: skip


def parse_email(
    raw: bytes, *, limits: EmailLimits = _DEFAULT_LIMITS, trust: TrustConfig = _DEFAULT_TRUST
) -> ParsedEmail:
    """Analyse one raw RFC 5322 message; raise EmailParseError only if it is not an email at all."""
    _check_input(raw, limits)
    raw = bytes(raw)
    defects: list[str] = []
    # Pasted reports often start with blank lines; the headers begin at the first non-blank one.
    fields, body = split_message(raw.lstrip(b"\r\n") if raw[:1] in (b"\r", b"\n") else raw, limits, defects)
    if not looks_like_header_block(fields):
        raise EmailParseError("no email headers found (From, To, Subject, Date, Received or Message-ID)")
    first = _first_fields(fields)
    addresses = {key: _addresses(first.get(key), limits, defects) for key in _ADDRESS_FIELDS}
    origin = _origin(fields, limits, trust, defects)
    mime = walk(fields, body, limits, defects)
    body_text, links = _body_text(mime.plain, mime.html, limits, defects)
    headers = _decoded_headers(fields, limits, defects)
    facts = _facts(first, addresses, origin.received_dates, origin.auth_by)
    return ParsedEmail(
        subject=next((value for name, value in headers if name.lower() == "subject"), None),
        from_=facts.from_, sender=_one(addresses["sender"]), reply_to=facts.reply_to,
        return_path=facts.return_path, to=addresses["to"], message_id=facts.message_id,
        date=facts.date.isoformat() if facts.date else None, headers=headers, body_text=body_text,
        urls=collect_urls(body_text, links, limits.max_urls), attachments=mime.attachments,
        relays=origin.relays, origin_ip=origin.origin_ip, origin_rule=origin.origin_rule,
        provider_ip=origin.provider_ip, provider_ip_rule=origin.provider_rule, provider=origin.provider,
        auth=origin.auth, anomalies=find_anomalies(facts), defects=list(dict.fromkeys(defects)),
        size=len(raw), mime_parts=mime.parts, unparsed_received=origin.unparsed,
        attached_emails=tuple(mime.messages),
    )  # fmt: skip


def _facts(
    first: dict[str, RawField],
    addresses: dict[str, list[Address]],
    received_dates: list[datetime],
    auth_by: str | None,
) -> HeaderFacts:
    date_field = first.get("date")
    message_id = first.get("message-id")
    return HeaderFacts(
        from_=_one(addresses["from"]),
        from_present="from" in first,
        reply_to=addresses["reply-to"],
        return_path=_one(addresses["return-path"]),
        message_id=header_text(message_id.unfolded()) or None if message_id else None,
        date=parse_date(header_text(date_field.unfolded())) if date_field else None,
        received_dates=received_dates,
        auth_by=auth_by,
    )


def _body_text(
    plain: list[str], html: list[str], limits: EmailLimits, defects: list[str]
) -> tuple[str, list[str]]:
    """Plain text preferred; HTML converted only when there is no plain text. Links from all HTML.
    One budget of HTML characters covers all parts: 1,000 small HTML parts must not cost 1,000 scans."""
    budget = limits.max_text_per_part * _HTML_BUDGET_FACTOR
    scanned: list[str] = []
    for part in html:
        if budget <= 0:
            defects.append(
                f"HTML beyond {limits.max_text_per_part * _HTML_BUDGET_FACTOR} characters not scanned"
            )
            break
        scanned.append(part[:budget])
        budget -= len(scanned[-1])
    links: list[str] = []
    for part in scanned:
        links.extend(html_links(part, max(0, limits.max_urls - len(links))))
    chosen = [p for p in plain if p.strip()]
    if not chosen:
        chosen = [html_to_text(part, limits.max_text_per_part) for part in scanned]
    return "\n\n".join(chosen)[: limits.max_body_text], links
