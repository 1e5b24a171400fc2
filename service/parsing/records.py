"""Flat dataclasses to dicts, fast.

`dataclasses.asdict` deep-copies every value, which cost more than the parsing itself on the per-report path.
These records hold only scalars, tuples and lists of such records, so nothing needs copying.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
# Values of these exact types are never records and are kept as they are: most fields hold one, and a set
# lookup by type is far cheaper than dataclasses.is_dataclass on each.
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), tuple})


def _field_names(record_type: type) -> tuple[str, ...]:
    # dataclasses.fields() rebuilds its tuple on every call; the names of a class never change.
    names = _FIELD_NAMES.get(record_type)
    if names is None:
        names = _FIELD_NAMES[record_type] = tuple(spec.name for spec in fields(record_type))
    return names


def record_dict(record: Any) -> dict[str, Any]:
    """A dataclass as a dict; nested dataclasses, also inside lists, become dicts; values are not copied."""
    out: dict[str, Any] = {}
    for name in _field_names(type(record)):
        value = getattr(record, name)
        out[name] = value if type(value) in _PLAIN_TYPES else _converted(value)
    return out


def _converted(value: Any) -> Any:
    """A field value with the records in it (itself, or the items of a list) turned into dicts."""
    if isinstance(value, list):
        if not value:
            return []  # most entity lists are empty: a new one, without a comprehension
        return [record_dict(item) if _is_record(item) else item for item in value]
    return record_dict(value) if _is_record(value) else value


def _is_record(value: Any) -> bool:
    """Whether `value` is a dataclass instance (what dataclasses.is_dataclass checks, for an instance)."""
    return hasattr(type(value), "__dataclass_fields__")
