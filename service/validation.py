"""Text that is stored: no NUL characters, whatever the database.

PostgreSQL's text and JSONB cannot hold U+0000: psycopg raises DataError, which was a 500 (and on the ingest
path it would sink every report of the group-commit batch with it). SQLite would store it, but an answer must
not depend on the database: both refuse it up front, with a 422 that names the field.
"""

from __future__ import annotations

from typing import Any

from pydantic import AfterValidator

NUL_MESSAGE = (
    "must not contain a NUL character (U+0000), which cannot be stored; remove it (a NUL that stands for '@' "
    "in GSM 7-bit text should be decoded as '@')"
)


def refuse_nul(value: str) -> str:
    """The value, if it holds no NUL character."""
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    return value


def refuse_nul_inside(value: Any) -> Any:
    """The value, if no string in it (keys included, at any depth) holds a NUL character."""
    if isinstance(value, str):
        return refuse_nul(value)
    if isinstance(value, dict):
        for key, item in value.items():
            refuse_nul_inside(key)
            refuse_nul_inside(item)
    elif isinstance(value, list):
        for item in value:
            refuse_nul_inside(item)
    return value


NoNul = AfterValidator(refuse_nul)
NoNulInside = AfterValidator(refuse_nul_inside)


def without_nul(value: Any) -> Any:
    """The value with every NUL character in its strings (keys included) replaced by U+FFFD.

    For what the service derives from a message rather than takes from the caller: an email may carry NUL
    bytes in any header or part, and its analysis shows them as a decoder shows undecodable bytes.
    """
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(item) for item in value]
    return value
