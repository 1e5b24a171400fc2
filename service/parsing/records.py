"""Flat dataclasses to dicts, fast.

`dataclasses.asdict` deep-copies every value, which cost more than the parsing itself on the per-report path.
These records hold only scalars, tuples and lists of such records, so nothing needs copying.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any


def record_dict(record: Any) -> dict[str, Any]:
    """A dataclass as a dict; nested dataclasses, also inside lists, become dicts; values are not copied."""
    out: dict[str, Any] = {}
    for spec in fields(record):
        value = getattr(record, spec.name)
        if isinstance(value, list):
            value = [record_dict(item) if is_dataclass(item) else item for item in value]
        elif is_dataclass(value) and not isinstance(value, type):
            value = record_dict(value)
        out[spec.name] = value
    return out
