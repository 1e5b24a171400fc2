"""Classify the sender of an SMS or report: msisdn, alphanumeric sender ID, short code or e-mail.

Alphanumeric senders are brand names ("Vietcombank", "BIDV"): they cannot be called back, and a
spoofed one from a fake base station leaves no record at the operator's SMSC (see operator_facts).
Over MAX_INPUT_CHARS, or empty, the sender is refused with SenderParseError before any parsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

import re2

from service.parsing.phones import MAX_INPUT_CHARS, PhoneInfo, SenderParseError, parse_phone

__all__ = ["SenderInfo", "SenderKind", "SenderParseError", "classify_sender"]

SenderKind = Literal["msisdn", "alphanumeric", "shortcode", "email"]

_MAX_SHORTCODE_DIGITS: Final = 6
_EMAIL: Final = re2.compile(r"[^\s@<>\"]{1,64}@[a-z0-9](?:[a-z0-9\-]{0,62}\.)+[a-z0-9\-]{2,63}\.?")
_NUMERIC_CHARS: Final = frozenset("+0123456789 .-()/")
# Deletes every numeric character that is not a digit: what is left of a numeric sender are its digits.
_DROP_NON_DIGITS: Final = str.maketrans("", "", "+ .-()/")


@dataclass(frozen=True, slots=True)
class SenderInfo:
    """The sender as given, its kind, and the parsed number or address where it has one."""

    raw: str
    kind: SenderKind
    phone: PhoneInfo | None = None
    email: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields."""
        return {
            "raw": self.raw,
            "kind": self.kind,
            "phone": self.phone.to_dict() if self.phone else None,
            "email": self.email,
        }


def classify_sender(raw: str, *, default_region: str = "VN") -> SenderInfo:
    """Classify one sender string (raises SenderParseError when empty or too long)."""
    if len(raw) > MAX_INPUT_CHARS:
        raise SenderParseError(f"sender longer than {MAX_INPUT_CHARS} characters")
    return _classify_cached(raw, default_region)


@lru_cache(maxsize=16384)
def _classify_cached(raw: str, default_region: str) -> SenderInfo:
    """Senders repeat (SIM farms, bank brand names): the frozen result is shared."""
    sender = raw.strip()
    if not sender:
        raise SenderParseError("empty sender")
    if "@" in sender:
        address = _email_address(sender)
        if address is not None:
            return SenderInfo(raw, "email", email=address)
    if _NUMERIC_CHARS.issuperset(sender) and "+" not in sender[1:]:
        digits = len(sender.translate(_DROP_NON_DIGITS))
        phone = parse_phone(sender, default_region=default_region, cached=False)  # this result is cached
        if not sender.startswith("+") and digits <= _MAX_SHORTCODE_DIGITS:
            return SenderInfo(raw, "shortcode", phone=phone)
        return SenderInfo(raw, "msisdn", phone=phone)
    return SenderInfo(raw, "alphanumeric")


def _email_address(sender: str) -> str | None:
    """The address, with the domain lowercased, or None when this is not an address."""
    candidate = sender.removeprefix("mailto:")
    if candidate.endswith(">") and "<" in candidate:
        candidate = candidate[candidate.rindex("<") + 1 : -1]  # "Name <address>"
    local, _, domain = candidate.rpartition("@")
    address = f"{local}@{domain.lower().rstrip('.')}"
    return address if _EMAIL.fullmatch(address) else None
