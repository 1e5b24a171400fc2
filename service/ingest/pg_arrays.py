"""PostgreSQL arrays in the server's binary format, encoded here instead of by psycopg.

The group writer sends each column of a batch as one array (service.ingest.pg_rows). psycopg builds an array
by dispatching on every element's Python type and dumping each through its own object, about half of the
writer's own CPU (cProfile). The element type is known from the column, so here each column's elements go
through one struct or encode call and one join: the writer's instructions per report, rows and commit,
273,000 -> 224,000 (callgrind).

The format (PostgreSQL's array_recv): five 32-bit integers (1 dimension, whether any element is NULL, the
element type's oid, the length, the lower bound 1), then each element as its 32-bit length (-1 for NULL) and
its bytes in the element type's own binary format. The parameter goes without a type (oid 0): the statement
casts it to the column's array type, which the server takes as the parameter's type.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import Any

import orjson
import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format

_HEADER = struct.Struct(">iiIii")
_INT4 = struct.Struct(">i")
_INT8 = struct.Struct(">q")
_FLOAT8 = struct.Struct(">d")
_NULL = _INT4.pack(-1)
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_JSONB_VERSION = b"\x01"


def _utf8(value: str) -> bytes:
    return value.encode()


def _timestamptz(value: datetime) -> bytes:
    # Microseconds since 2000-01-01 UTC; a naive timestamp is taken to be UTC, as UTCDateTime binds it.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return _INT8.pack((aware - _PG_EPOCH) // _MICROSECOND)


def _jsonb(value: Any) -> bytes:
    return _JSONB_VERSION + orjson.dumps(value)  # the engines' serializer (service.db.json_text)


@dataclass(frozen=True)
class EncodedArray:
    """An array parameter already in the binary format."""

    data: bytes


@dataclass(frozen=True)
class ArrayCodec:
    """How one column type's values become a binary array."""

    element_oid: int
    encode: Callable[[Any], bytes]
    # A JSON column stores Python's None as JSON's null, as SQLAlchemy's JSON type does (none_as_null off).
    none_is_null: bool = True

    def array(self, values: Sequence[Any]) -> EncodedArray:
        count = len(values)
        nulls = values.count(None) if self.none_is_null else 0
        if not nulls:  # lengths and bytes interleaved by C iterators, no Python loop per element
            encoded = list(map(self.encode, values))
            body = b"".join(
                chain.from_iterable(zip(map(_INT4.pack, map(len, encoded)), encoded, strict=True))
            )
        elif nulls == count:  # a column nobody has filled yet (enriched_at, case_id): one repeat
            body = _NULL * count
        else:
            body = self._with_nulls(values)
        return EncodedArray(_HEADER.pack(1, 1 if nulls else 0, self.element_oid, count, 1) + body)

    def _with_nulls(self, values: Sequence[Any]) -> bytes:
        parts = []
        for value in values:
            if value is None:
                parts.append(_NULL)
            else:
                data = self.encode(value)
                parts.append(_INT4.pack(len(data)))
                parts.append(data)
        return b"".join(parts)


# Keyed by the column type as SQLAlchemy's PostgreSQL dialect compiles it, without a length ("VARCHAR(36)").
_CODECS = {
    "VARCHAR": ArrayCodec(1043, _utf8),
    "TEXT": ArrayCodec(25, _utf8),
    "INTEGER": ArrayCodec(23, _INT4.pack),
    "BIGINT": ArrayCodec(20, _INT8.pack),
    "FLOAT": ArrayCodec(701, _FLOAT8.pack),
    "DOUBLE PRECISION": ArrayCodec(701, _FLOAT8.pack),
    "BYTEA": ArrayCodec(17, bytes),
    "TIMESTAMP WITH TIME ZONE": ArrayCodec(1184, _timestamptz),
    "JSONB": ArrayCodec(3802, _jsonb, none_is_null=False),
    "JSON": ArrayCodec(114, orjson.dumps, none_is_null=False),
}


def encoded_array_codec(column_type: str) -> ArrayCodec | None:
    """The codec for a column of this compiled type, or None to leave its values to psycopg."""
    return _CODECS.get(column_type.split("(", 1)[0])


class EncodedArrayDumper(Dumper):
    """Hands psycopg an EncodedArray's bytes as they are, in binary, with no type of its own."""

    format = Format.BINARY

    def dump(self, obj: EncodedArray) -> bytes:
        return obj.data


# Registered for every connection made from now on (the writer's among them): the class is ours alone.
psycopg.adapters.register_dumper(EncodedArray, EncodedArrayDumper)
