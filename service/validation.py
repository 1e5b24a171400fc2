"""Text that is stored: valid Unicode without NUL characters, whatever the database.

PostgreSQL's text and JSONB cannot hold U+0000: psycopg raises DataError, which was a 500 (and on the ingest
path it would sink every report of the group-commit batch with it). A lone UTF-16 surrogate, which Python's
JSON decoder lets through, cannot be encoded at all: a 500 on either database. SQLite would store a NUL, but
an answer must not depend on the database: both refuse these up front, with a 422 that names the field.
"""

from __future__ import annotations

from typing import Any

from pydantic import AfterValidator

NUL_MESSAGE = (
    "must not contain a NUL character (U+0000), which cannot be stored; remove it (a NUL that stands for '@' "
    "in GSM 7-bit text should be decoded as '@')"
)


SURROGATE_MESSAGE = (
    "is not valid Unicode: it holds a lone UTF-16 surrogate (U+D800 to U+DFFF); send valid UTF-8"
)


def storable(value: str) -> str:
    """The value, if it is valid Unicode without a NUL character."""
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(SURROGATE_MESSAGE) from None
    return value


def storable_inside(value: Any) -> Any:
    """The value, if every string in it (keys included, at any depth) is storable."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        for key, item in value.items():
            storable_inside(key)
            storable_inside(item)
    elif isinstance(value, list):
        for item in value:
            storable_inside(item)
    return value


Storable = AfterValidator(storable)
StorableInside = AfterValidator(storable_inside)


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
