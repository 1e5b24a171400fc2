"""Where the country and the AS of a public address come from: iptocc, geoip2fast or `.mmdb` files.

Each source has a `version` (the date of its data where it has one) and answers for an address given
both as canonical text and as an integer, whichever its reader needs.
"""

from __future__ import annotations

import bisect
from importlib import metadata
from pathlib import Path
from typing import Any, Final, Protocol

import iptocc
import re2

__all__ = [
    "AsnSource",
    "CountrySource",
    "GeoIp2FastAsn",
    "MmdbAsn",
    "MmdbCountry",
    "RegistryCountry",
    "open_mmdb",
]


class CountrySource(Protocol):
    """Gives the country of a public address."""

    version: str | None

    def country(self, ip: str, key: int) -> str | None: ...


class AsnSource(Protocol):
    """Gives the AS number (None when the data has none) and AS name of a public address."""

    version: str | None

    def asn(self, ip: str, key: int) -> tuple[int | None, str | None]: ...


class RegistryCountry:
    """Country from the regional registries' delegations, bundled in iptocc (~0.1 µs a look-up)."""

    def __init__(self) -> None:
        self.version: str | None = f"iptocc {metadata.version('iptocc')}"

    def country(self, ip: str, key: int) -> str | None:
        """The registry's country code, or None."""
        code: str | None = iptocc.country_code(ip)
        return code or None


class GeoIp2FastAsn:
    """AS names from geoip2fast's bundled data (GeoLite2-derived, June 2024); it has no AS numbers.

    The look-up reads the loaded tables itself: geoip2fast's own, with its IPv6-capable file, checks
    the end of an IPv4 block with IPv6 sizes, so an IPv4 address in an unannounced gap gets the name
    of the block before it (18% of random IPv4 addresses here, e.g. 15.233.130.55 as AMAZON-02).
    Doing it here also saves the ~10 µs of building its result object.
    """

    _NO_NAME: Final = frozenset({"", "<unknown>", "IANA.ORG"})

    def __init__(self) -> None:
        from geoip2fast import GeoIP2Fast
        from geoip2fast import geoip2fast as module

        self._reader = GeoIP2Fast(geoip2fast_data_file="geoip2fast-asn-ipv6.dat.gz")
        names = (
            "mainIndexASN",
            "mainListFirstIPASN",
            "mainListNetlengthASN",
            "mainListIDASN",
            "mainListNamesASN",
        )
        tables = [getattr(module, name, None) for name in names]
        self._tables: list[Any] | None = tables if all(t is not None for t in tables) else None
        info = str(getattr(module, "source_info", {}).get("info", ""))
        stamp = re2.search(r"(\d{4})(\d{2})(\d{2})", info)
        self.version: str | None = f"{stamp.group(1)}-{stamp.group(2)}-{stamp.group(3)}" if stamp else None

    def asn(self, ip: str, key: int) -> tuple[int | None, str | None]:
        """(None, AS name) or (None, None)."""
        name = (
            self._name(key, 128 if ":" in ip else 32)
            if self._tables
            else str(self._reader.lookup(ip).asn_name)
        )
        return None, (None if not name or name in self._NO_NAME else name)

    def _name(self, key: int, bits: int) -> str:
        """The AS name of the block holding `key`, or "" when the address is in no block."""
        assert self._tables is not None
        index, firsts, lengths, ids, names = self._tables
        root = bisect.bisect_right(index, key) - 1
        if root < 0:
            return ""
        chunk = bisect.bisect_right(firsts[root], key) - 1
        if chunk < 0:
            return ""
        size = 1 << (bits - lengths[root][chunk])
        return str(names[ids[root][chunk]]) if key < firsts[root][chunk] + size else ""


class MmdbCountry:
    """Country from a MaxMind or DB-IP country/city `.mmdb`."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self.version: str | None = _mmdb_date(reader)

    def country(self, ip: str, key: int) -> str | None:
        """ISO code of the country, else of the registered country, else None."""
        record = self._reader.get(ip) or {}
        for field_name in ("country", "registered_country"):
            code = (record.get(field_name) or {}).get("iso_code")
            if code:
                return str(code)
        return None


class MmdbAsn:
    """AS number and organisation from a MaxMind or DB-IP ASN `.mmdb`."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self.version: str | None = _mmdb_date(reader)

    def asn(self, ip: str, key: int) -> tuple[int | None, str | None]:
        """(number, organisation), each None when absent."""
        record = self._reader.get(ip) or {}
        number = record.get("autonomous_system_number")
        name = record.get("autonomous_system_organization")
        return (int(number) if number else None), (str(name) if name else None)


def _mmdb_date(reader: Any) -> str | None:
    from datetime import UTC, datetime

    epoch = getattr(reader.metadata(), "build_epoch", None)
    return datetime.fromtimestamp(epoch, UTC).date().isoformat() if epoch else None


def open_mmdb(path: Path) -> Any:
    """Open a MaxMind/DB-IP database fully in memory."""
    import maxminddb

    return maxminddb.open_database(str(path), maxminddb.MODE_MEMORY)
