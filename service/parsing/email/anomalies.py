"""Header anomalies: ways a message contradicts itself or borrows someone else's name.

The brand table (brands.yaml) and the freemail list (freemail.txt) are data, not code; they sit
next to this module so that the package-data globs of pyproject.toml ship them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources

import yaml

from service.parsing.email.addresses import Address
from service.parsing.email.model import Anomaly

_DATE_SLACK_HOURS = 24.0
# Second-level labels under which registrations happen (example.com.vn, example.co.uk).
_SECOND_LEVEL = frozenset(
    [
        "com",
        "net",
        "org",
        "gov",
        "edu",
        "co",
        "ac",
        "or",
        "ne",
        "go",
        "mil",
        "int",
        "biz",
        "info",
        "health",
        "name",
    ]
)


def _data_text(name: str) -> str:
    return resources.files("service.parsing.email").joinpath(name).read_text("utf-8")


def _data_lines(name: str) -> list[str]:
    return [line for line in _data_text(name).splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def freemail_domains() -> frozenset[str]:
    """Free webmail domains."""
    return frozenset(line.strip().lower() for line in _data_lines("freemail.txt"))


@lru_cache(maxsize=1)
def brand_domains() -> dict[str, tuple[str, ...]]:
    """Brand or authority name (folded) -> the domains that send for it."""
    data = yaml.safe_load(_data_text("brands.yaml"))
    return {fold(str(name)): tuple(str(d).lower() for d in domains) for name, domains in data.items()}


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ -> d), keep letters and digits as space-separated words."""
    text = unicodedata.normalize("NFKD", text.lower().replace("đ", "d"))
    kept = "".join(c if c.isalnum() else " " for c in text if not unicodedata.combining(c))
    return " ".join(kept.split())


def org_domain(domain: str) -> str:
    """Approximate registrable domain: last two labels, three under a ccTLD second level."""
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _within(domain: str, allowed: tuple[str, ...]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in allowed)


@dataclass(frozen=True, slots=True)
class HeaderFacts:
    """The parsed header facts the anomaly checks need."""

    from_: Address | None
    from_present: bool
    reply_to: list[Address]
    return_path: Address | None
    message_id: str | None
    date: datetime | None
    received_dates: list[datetime]
    auth_by: str | None = None  # set when Authentication-Results was not written by the receiving side


def find_anomalies(facts: HeaderFacts) -> list[Anomaly]:
    """Every anomaly that applies, in a stable order."""
    found: list[Anomaly] = []
    sender = facts.from_
    if sender is None and facts.from_present:
        found.append(Anomaly("from_unparseable", "the From header names no valid address"))
    if sender is not None:
        found.extend(_sender_anomalies(sender, facts))
    if not facts.message_id:
        found.append(Anomaly("missing_message_id", "no Message-ID header"))
    found.extend(_date_anomaly(facts))
    if facts.auth_by is not None:
        found.append(
            Anomaly(
                "auth_results_unverified",
                f"Authentication-Results by {facts.auth_by[:80]}, not the receiving side",
            )
        )
    return found


def _sender_anomalies(sender: Address, facts: HeaderFacts) -> list[Anomaly]:
    found: list[Anomaly] = []
    home = org_domain(sender.domain)
    foreign = sorted({r.domain for r in facts.reply_to if org_domain(r.domain) != home})
    if foreign:
        found.append(
            Anomaly("reply_to_mismatch", f"Reply-To {', '.join(foreign)} differs from From {sender.domain}")
        )
    rp = facts.return_path
    if rp is not None and org_domain(rp.domain) != home:
        found.append(
            Anomaly("return_path_mismatch", f"Return-Path {rp.domain} differs from From {sender.domain}")
        )
    name = sender.display_name or ""
    if _other_address_in(name, sender.addr_spec):
        found.append(Anomaly("display_name_address", f"display name {name[:120]!r} holds another address"))
    found.extend(_brand_anomalies(name, sender.domain))
    if sender.domain in freemail_domains():
        found.append(Anomaly("freemail_sender", f"From uses free webmail {sender.domain}"))
    return found


def _other_address_in(name: str, addr_spec: str) -> bool:
    """True when the display name shows an address other than the real one ('"bob@x" <bob@x>' is fine)."""
    if "@" not in name:
        return False
    shown = [word.strip("<>()[]\"',;:") for word in name.split() if "@" in word]
    return any(word.lower() != addr_spec.lower() for word in shown)


def _brand_anomalies(name: str, domain: str) -> list[Anomaly]:
    folded = f" {fold(name)} "
    if folded.isspace():
        return []
    return [
        Anomaly("brand_impersonation", f"display name says {brand!r} but the sender domain is {domain}")
        for brand, allowed in brand_domains().items()
        if f" {brand} " in folded and not _within(domain, allowed)
    ]


def _date_anomaly(facts: HeaderFacts) -> list[Anomaly]:
    if facts.date is None or not facts.received_dates:
        return []
    gap = min(abs((facts.date - seen).total_seconds()) for seen in facts.received_dates) / 3600
    if gap <= _DATE_SLACK_HOURS:
        return []
    return [Anomaly("date_far_from_received", f"Date is {gap:.0f} h from the nearest Received date")]
