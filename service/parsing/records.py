"""Flat dataclasses to dicts, fast.

`dataclasses.asdict` deep-copies every value, which cost more than the parsing itself on the per-report path.
These records hold only scalars, tuples and lists of such records, so nothing needs copying.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


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
        if isinstance(value, list):
            value = [record_dict(item) if is_dataclass(item) else item for item in value]
        elif is_dataclass(value) and not isinstance(value, type):
            value = record_dict(value)
        out[name] = value
    return out
