"""DNS facts about an email's origin: reverse DNS of the origin IP, SPF and DMARC of the sender domain.

Only with a configured resolver (DNS_RESOLVER), only from a worker, and each query bounded by a timeout: a
slow or dead resolver costs one job a few seconds, never the ingest path. An answer not to be had is None.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import dns.exception
import dns.resolver
import dns.reversename

MAX_TXT_CHARS = 2048


@dataclass(frozen=True)
class DnsFacts:
    reverse_dns: str | None
    spf_record: str | None
    dmarc_record: str | None
    dmarc_policy: str | None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


def make_resolver(nameserver: str, *, timeout: float = 2.0) -> dns.resolver.Resolver:
    """A resolver that asks only `nameserver` ("IP" or "IP:port"), within `timeout` seconds per query."""
    host, _, port = nameserver.rpartition(":") if nameserver.count(":") == 1 else (nameserver, "", "")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = int(port) if port else 53
    resolver.timeout = resolver.lifetime = timeout
    return resolver


def dns_facts(resolver: dns.resolver.Resolver, *, ip: str | None, domain: str | None) -> DnsFacts:
    """Look the facts up; each one that fails or times out is None."""
    spf = _txt(resolver, domain, "v=spf1") if domain else None
    dmarc = _txt(resolver, f"_dmarc.{domain}", "v=DMARC1") if domain else None
    return DnsFacts(reverse_dns=_ptr(resolver, ip) if ip else None, spf_record=spf, dmarc_record=dmarc,
                    dmarc_policy=_dmarc_policy(dmarc))  # fmt: skip


def _ptr(resolver: dns.resolver.Resolver, ip: str) -> str | None:
    try:
        answer = resolver.resolve(dns.reversename.from_address(ip), "PTR")
    except (dns.exception.DNSException, ValueError):
        return None
    return str(answer[0]).rstrip(".")[:253] if len(answer) else None


def _txt(resolver: dns.resolver.Resolver, name: str, prefix: str) -> str | None:
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.exception.DNSException, ValueError):
        return None
    for record in answer:
        text = b"".join(record.strings).decode("utf-8", "replace")[:MAX_TXT_CHARS]
        if text.lower().startswith(prefix.lower()):
            return text
    return None


def _dmarc_policy(record: str | None) -> str | None:
    for part in (record or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "p":
            return value.strip().lower() or None
    return None
