"""Facts the reporting operator attaches about the sending subscriber, as rule fields.

JSON (the `operator_facts` object of an SMS report; every key optional, `null` or absent = unknown):

    {
      "subscription": "prepaid" | "postpaid" | null,
      "identity_verified": true | false | null,      # subscriber identity checked against an ID card
      "activated_at": "2024-05-01" | "2024-05-01T08:00:00+07:00" | null,   # naive times are UTC
      "last_device_change": ISO date or date-time | null,                   # last IMEI change
      "sims_on_device": integer >= 0 | null,          # SIMs seen in the same device (SIM farms)
      "sent_24h": integer >= 0 | null,                # SMS sent by the subscriber in the last 24 h
      "recipients_24h": integer >= 0 | null,          # distinct recipients in the last 24 h
      "cell": {"mcc": str|int, "mnc": str|int, "lac": str|int, "tac": str|int, "id": str|int,
               "lat": number, "lon": number} | null,   # every key optional
      "smsc_record": true | false | null              # alphanumeric senders: did the SMSC carry it?
    }

`smsc_record: false` means the operator's SMSC has no record of the message: the mark of a fake
base station. A missing fact stays None and is never read as False. Unknown keys and wrong types
raise OperatorFactsError with the dotted path of the field (the API answers 422).
Rule fields (`field_values`): sender.subscription, sender.prepaid, sender.identity_verified,
sender.age_days, sender.device_change_days, sender.sims_on_device, sender.sent_24h,
sender.recipients_24h, sender.smsc_record, sender.cell_id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from service.parsing.records import record_dict

__all__ = ["Cell", "OperatorFacts", "OperatorFactsError"]

_ROOT: Final = "operator_facts"
_MAX_COUNT: Final = 10_000_000
_MAX_ID_CHARS: Final = 32
_CLOCK_SKEW: Final = timedelta(days=1)
_COUNTS: Final = ("sims_on_device", "sent_24h", "recipients_24h")
_FLAGS: Final = ("identity_verified", "smsc_record")
_DATES: Final = ("activated_at", "last_device_change")
_FIELDS: Final = frozenset({"subscription", "cell", *_COUNTS, *_FLAGS, *_DATES})
_CELL_IDS: Final = ("mcc", "mnc", "lac", "tac", "id")
_CELL_FIELDS: Final = frozenset({*_CELL_IDS, "lat", "lon"})


class OperatorFactsError(ValueError):
    """Operator facts that do not fit the schema; `path` is the dotted field that failed."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path


@dataclass(frozen=True, slots=True)
class Cell:
    """The serving cell as the operator identifies it; ids are kept as strings."""

    mcc: str | None = None
    mnc: str | None = None
    lac: str | None = None
    tac: str | None = None
    id: str | None = None
    lat: float | None = None
    lon: float | None = None

    @classmethod
    def from_dict(cls, data: object, path: str) -> Cell:
        """Validate the `cell` object."""
        fields = _mapping(data, path, _CELL_FIELDS)
        ids = {key: _identifier(fields.get(key), f"{path}.{key}") for key in _CELL_IDS}
        lat = _coordinate(fields.get("lat"), f"{path}.lat", 90.0)
        lon = _coordinate(fields.get("lon"), f"{path}.lon", 180.0)
        return cls(**ids, lat=lat, lon=lon)


@dataclass(frozen=True, slots=True)
class OperatorFacts:
    """What the operator knows about the sending subscriber; None everywhere means nothing is known."""

    subscription: str | None = None
    identity_verified: bool | None = None
    activated_at: datetime | None = None
    age_days: int | None = None
    last_device_change: datetime | None = None
    device_change_days: int | None = None
    sims_on_device: int | None = None
    sent_24h: int | None = None
    recipients_24h: int | None = None
    cell: Cell | None = None
    smsc_record: bool | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, object] | None, *, now: datetime | None = None) -> OperatorFacts:
        """Validate operator facts; ages are whole days before `now` (default: the current UTC time)."""
        if data is None:
            return cls()
        fields = _mapping(data, _ROOT, _FIELDS)
        moment = _aware(now) if now is not None else datetime.now(UTC)
        activated = _instant(fields.get("activated_at"), f"{_ROOT}.activated_at", moment)
        changed = _instant(fields.get("last_device_change"), f"{_ROOT}.last_device_change", moment)
        cell = fields.get("cell")
        return cls(
            subscription=_subscription(fields.get("subscription")),
            identity_verified=_flag(fields.get("identity_verified"), f"{_ROOT}.identity_verified"),
            activated_at=activated,
            age_days=_days_before(activated, moment),
            last_device_change=changed,
            device_change_days=_days_before(changed, moment),
            sims_on_device=_count(fields.get("sims_on_device"), f"{_ROOT}.sims_on_device"),
            sent_24h=_count(fields.get("sent_24h"), f"{_ROOT}.sent_24h"),
            recipients_24h=_count(fields.get("recipients_24h"), f"{_ROOT}.recipients_24h"),
            cell=None if cell is None else Cell.from_dict(cell, f"{_ROOT}.cell"),
            smsc_record=_flag(fields.get("smsc_record"), f"{_ROOT}.smsc_record"),
        )

    def field_values(self) -> dict[str, object]:
        """The facts under the dotted names that rules use; unknown facts are None."""
        prepaid = None if self.subscription is None else self.subscription == "prepaid"
        return {
            "sender.subscription": self.subscription,
            "sender.prepaid": prepaid,
            "sender.identity_verified": self.identity_verified,
            "sender.age_days": self.age_days,
            "sender.device_change_days": self.device_change_days,
            "sender.sims_on_device": self.sims_on_device,
            "sender.sent_24h": self.sent_24h,
            "sender.recipients_24h": self.recipients_24h,
            "sender.smsc_record": self.smsc_record,
            "sender.cell_id": self.cell.id if self.cell else None,
        }

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields (dates as ISO 8601 strings)."""
        data = record_dict(self)
        for key in _DATES:
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return data


def _mapping(data: object, path: str, allowed: frozenset[str]) -> Mapping[str, object]:
    if not isinstance(data, Mapping):
        raise OperatorFactsError(path, f"expected an object, got {type(data).__name__}")
    for key in data:
        if key not in allowed:
            shown = key if isinstance(key, str) and len(key) <= 40 else "<key>"
            raise OperatorFactsError(f"{path}.{shown}", "unknown field")
    return data


def _subscription(value: object) -> str | None:
    if value is None or value in {"prepaid", "postpaid"}:
        return value  # type: ignore[return-value]
    raise OperatorFactsError(f"{_ROOT}.subscription", 'expected "prepaid", "postpaid" or null')


def _flag(value: object, path: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise OperatorFactsError(path, f"expected true, false or null, got {type(value).__name__}")


def _count(value: object, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise OperatorFactsError(path, f"expected an integer or null, got {type(value).__name__}")
    if not 0 <= value <= _MAX_COUNT:
        raise OperatorFactsError(path, f"expected 0 to {_MAX_COUNT}")
    return value


def _identifier(value: object, path: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise OperatorFactsError(path, f"expected a string, an integer or null, got {type(value).__name__}")
    text = str(value)
    if not 0 < len(text) <= _MAX_ID_CHARS:
        raise OperatorFactsError(path, f"expected 1 to {_MAX_ID_CHARS} characters")
    return text


def _coordinate(value: object, path: str, limit: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not -limit <= value <= limit:
        raise OperatorFactsError(path, f"expected a number from {-limit} to {limit} or null")
    return float(value)


def _instant(value: object, path: str, now: datetime) -> datetime | None:
    """An ISO 8601 date or date-time, not later than now (give or take a day of clock skew)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise OperatorFactsError(path, "expected an ISO 8601 date or date-time string or null")
    try:
        moment = _aware(datetime.fromisoformat(value))  # Python 3.11 also reads a bare date
    except ValueError:
        raise OperatorFactsError(path, f"not an ISO 8601 date or date-time: {value[:40]!r}") from None
    if moment > now + _CLOCK_SKEW:
        raise OperatorFactsError(path, "is in the future")
    return moment


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _days_before(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else max(0, (now - moment).days)
