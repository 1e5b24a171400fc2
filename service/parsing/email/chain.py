"""Build the relay chain from the Received headers and the webmail originating-IP headers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache

from service.parsing.email.headers import RawField
from service.parsing.email.ipaddr import IPV4_RX, normalize_ip
from service.parsing.email.model import Relay
from service.parsing.email.received import Skip, parse_received
from service.parsing.email.received_post import RelayFields
from service.parsing.email.received_rules import compile_rx

# SpamAssassin's originating_ip_headers, in its order: each becomes a synthetic oldest hop.
ORIGINATING_HEADERS = (
    "x-yahoo-post-ip",
    "x-originating-ip",
    "x-apparently-from",
    "x-senderip",
    "x-aol-ip",
    "x-ms-exchange-crosstenant-originalattributedtenantconnectingip",
)
# Not in SpamAssassin's list. Outlook stamps X-Sender-IP with the IP that reached it, which is
# already a hop, so it only counts when it names an IP the chain does not have.
EXTRA_ORIGINATING = ("x-sender-ip",)
_FIRST_IP = compile_rx(rb"(" + IPV4_RX + rb"|(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})")


@dataclass(frozen=True, slots=True)
class Chain:
    """The relays, newest first, and how many Received lines could not be read."""

    relays: list[Relay]
    unparseable: int
    received_dates: list[datetime]


_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}


@lru_cache(maxsize=512)
def _offset(sign_hhmm: str) -> timezone | None:
    if len(sign_hhmm) != 5 or sign_hhmm[0] not in "+-" or not sign_hhmm[1:].isdigit():
        return None
    minutes = int(sign_hhmm[1:3]) * 60 + int(sign_hhmm[3:])
    return timezone(timedelta(minutes=-minutes if sign_hhmm[0] == "-" else minutes))


def _fast_date(text: str) -> datetime | None:
    """The common '[Day,] D Mon YYYY HH:MM[:SS] +ZZZZ' form, without the stdlib's generality.
    '-0000' (RFC 5322: UTC, local zone unknown) is read as UTC: the instant is known."""
    words = text.replace(",", " ").split()
    if words and words[0][:1].isalpha():
        words = words[1:]
    if len(words) < 5 or not (words[0].isdigit() and words[2].isdigit() and len(words[2]) == 4):
        return None
    month = _MONTHS.get(words[1][:3].lower())
    clock = words[3].split(".", 1)[0].split(":")  # SendGrid and others add milliseconds
    zone = _offset(words[4])
    if month is None or zone is None or not 2 <= len(clock) <= 3 or not all(c.isdigit() for c in clock):
        return None
    try:
        hour, minute, second = int(clock[0]), int(clock[1]), int(clock[2]) if len(clock) == 3 else 0
        return datetime(int(words[2]), month, int(words[0]), hour, minute, second, tzinfo=zone)
    except ValueError:
        return None


def parse_date(text: str | None) -> datetime | None:
    """RFC 5322 date to an aware datetime, None when unreadable."""
    if not text or len(text) > 200:
        return None
    fast = _fast_date(text)
    if fast is not None:
        return fast
    try:
        value = parsedate_to_datetime(text)
    except Exception:  # the stdlib raises several types on garbage; all mean "no date"
        return None
    return value if value.tzinfo is not None else None


def _relay(fields: RelayFields, envfrom: str | None) -> tuple[Relay, datetime | None]:
    when = parse_date(fields.date)
    return (
        Relay(
            ip=fields.ip or None,
            rdns=fields.rdns or None,
            helo=fields.helo or None,
            by=fields.by or None,
            ident=fields.ident or None,
            envfrom=envfrom or fields.envfrom or None,
            id=fields.id or None,
            auth=fields.auth or None,
            with_=fields.with_ or None,
            date=when.isoformat() if when else None,
        ),
        when,
    )


def build_chain(fields: list[RawField], max_received: int, defects: list[str]) -> Chain:
    """Parse every Received header (newest first) and append the originating-IP hops."""
    relays: list[Relay] = []
    dates: list[datetime] = []
    unparseable = 0
    pending_envfrom: str | None = None
    received = [f for f in fields if f.key == "received"]
    if len(received) > max_received:
        defects.append(f"more than {max_received} Received headers; the rest ignored")
    for item in received[:max_received]:
        parsed = parse_received(item.unfolded())
        envfrom, pending_envfrom = pending_envfrom, None
        if parsed is None:
            unparseable += 1
        elif isinstance(parsed, Skip):
            pending_envfrom = parsed.envfrom  # qmail-scanner describes the next handover's sender
        else:
            relay, when = _relay(parsed, envfrom)
            relays.append(relay)
            if when is not None:
                dates.append(when)
    relays.extend(_originating_hops(fields, {r.ip for r in relays if r.ip}))
    return Chain(relays=relays, unparseable=unparseable, received_dates=dates)


def _originating_hops(fields: list[RawField], seen: set[str]) -> list[Relay]:
    last: dict[str, bytes] = {}
    for item in fields:
        if item.key in ORIGINATING_HEADERS or item.key in EXTRA_ORIGINATING:
            last[item.key] = item.unfolded()  # SpamAssassin reads the last occurrence
    hops: list[Relay] = []
    for key in ORIGINATING_HEADERS + EXTRA_ORIGINATING:
        value = last.get(key)
        found = _FIRST_IP.search(value[:512]) if value else None
        ip = normalize_ip(found.group(1).decode("ascii")) if found else None
        if ip is None or (key in EXTRA_ORIGINATING and ip in seen):
            continue
        hops.append(Relay(ip=ip, source=key))
    return hops
