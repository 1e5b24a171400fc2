"""The frozen results of an email analysis, with their JSON-ready forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.parsing.email.addresses import Address
from service.parsing.email.auth_results import Auth
from service.parsing.email.mime import Attachment


@dataclass(frozen=True, slots=True)
class Relay:
    """One hop of the chain, newest first. None where the header does not say."""

    ip: str | None
    rdns: str | None = None
    helo: str | None = None
    by: str | None = None
    ident: str | None = None
    envfrom: str | None = None
    id: str | None = None
    auth: str | None = None
    with_: str | None = None
    date: str | None = None
    trusted: bool = False
    source: str = "received"  # or the webmail header it was read from, e.g. "x-originating-ip"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (`with_` becomes "with")."""
        return {
            "ip": self.ip,
            "rdns": self.rdns,
            "helo": self.helo,
            "by": self.by,
            "ident": self.ident,
            "envfrom": self.envfrom,
            "id": self.id,
            "auth": self.auth,
            "with": self.with_,
            "date": self.date,
            "trusted": self.trusted,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A way the headers contradict themselves or impersonate someone."""

    code: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"code": self.code, "detail": self.detail}


def _addr(value: Address | None) -> dict[str, str | None] | None:
    return None if value is None else value.to_dict()


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    """Everything the analysis found in one email."""

    subject: str | None
    from_: Address | None
    sender: Address | None
    reply_to: list[Address]
    return_path: Address | None
    to: list[Address]
    message_id: str | None
    date: str | None
    headers: list[tuple[str, str]]
    body_text: str
    urls: list[str]
    attachments: list[Attachment]
    relays: list[Relay]
    origin_ip: str | None
    origin_rule: str
    provider_ip: str | None
    provider_ip_rule: str
    provider: str | None
    auth: Auth
    anomalies: list[Anomaly]
    defects: list[str]
    size: int
    mime_parts: int
    unparsed_received: int = 0  # Received lines that named a relay we could not read
    # Emails attached as message/rfc822 ("forward as attachment"), raw, for parse_email of their own.
    attached_emails: tuple[bytes, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "subject": self.subject,
            "from": _addr(self.from_),
            "sender": _addr(self.sender),
            "reply_to": [a.to_dict() for a in self.reply_to],
            "return_path": _addr(self.return_path),
            "to": [a.to_dict() for a in self.to],
            "message_id": self.message_id,
            "date": self.date,
            "headers": [[name, value] for name, value in self.headers],
            "body_text": self.body_text,
            "urls": list(self.urls),
            "attachments": [a.to_dict() for a in self.attachments],
            "relays": [r.to_dict() for r in self.relays],
            "origin_ip": self.origin_ip,
            "origin_rule": self.origin_rule,
            "provider_ip": self.provider_ip,
            "provider_ip_rule": self.provider_ip_rule,
            "provider": self.provider,
            "auth": self.auth.to_dict(),
            "anomalies": [a.to_dict() for a in self.anomalies],
            "defects": list(self.defects),
            "size": self.size,
            "mime_parts": self.mime_parts,
            "unparsed_received": self.unparsed_received,
        }
