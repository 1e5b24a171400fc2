"""Offline IP lists: Tor exits (addresses and blocks) and hosting ASNs, each dated by its header.

A list file holds one entry per line and `#` comments; a line `# date: YYYY-MM-DD` in the first 20
lines says how fresh it is, and that date travels with every look-up result.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import re2

__all__ = ["HostingList", "IpList"]

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_MAX_LIST_BYTES: Final = 16 << 20
_DATE: Final = re2.compile(r"(\d{4}-\d{2}-\d{2})")


class IpList:
    """Addresses and CIDR blocks, one per line, `#` comments; membership by binary search."""

    __slots__ = ("_spans", "date", "size")

    def __init__(self, networks: list[IpNetwork], date: str | None) -> None:
        self._spans = {4: _merged(networks, 4), 6: _merged(networks, 6)}
        self.date = date
        self.size = len(networks)

    @classmethod
    def load(cls, path: Path) -> IpList:
        """Read a list file; a malformed line raises ValueError with `path:line`."""
        networks = []
        for number, line in _lines(path):
            try:
                networks.append(ipaddress.ip_network(line.split("#", 1)[0].strip(), strict=False))
            except ValueError as error:
                raise ValueError(f"{path}:{number}: {error}") from None
        return cls(networks, _list_date(path))

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        return self.holds(address.version, int(address))

    def holds(self, version: int, key: int) -> bool:
        """Whether the address with this version and integer value is listed."""
        starts, ends = self._spans[version]
        index = bisect.bisect_right(starts, key) - 1
        return index >= 0 and ends[index] >= key


def _merged(networks: list[IpNetwork], version: int) -> tuple[list[int], list[int]]:
    """Sorted, non-overlapping [start, end] spans of one IP version, so one bisect decides."""
    spans = sorted(
        (int(n.network_address), int(n.broadcast_address)) for n in networks if n.version == version
    )
    starts: list[int] = []
    ends: list[int] = []
    for start, end in spans:
        if ends and start <= ends[-1] + 1:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


@dataclass(frozen=True, slots=True)
class HostingList:
    """ASNs of clouds, hosters and VPN providers, with the AS names given in the comments."""

    asns: frozenset[int]
    asn_by_name: Mapping[str, int | None]
    date: str | None

    @classmethod
    def load(cls, path: Path) -> HostingList:
        """Read `ASN  # name` lines; a malformed line raises ValueError with `path:line`."""
        asns: set[int] = set()
        by_name: dict[str, int | None] = {}
        for number, line in _lines(path):
            entry, _, name = line.partition("#")
            token = entry.strip().upper().removeprefix("AS")
            if not token.isdigit() or not 0 < int(token) < 1 << 32:
                raise ValueError(f"{path}:{number}: expected `ASN  # name`")
            asn = int(token)
            asns.add(asn)
            key = name.strip().casefold()
            if key:
                # A name shared by several ASNs still marks hosting but names no single ASN.
                by_name[key] = asn if by_name.get(key, asn) == asn else None
        return cls(frozenset(asns), by_name, _list_date(path))


def _read_list(path: Path) -> str:
    if path.stat().st_size > _MAX_LIST_BYTES:
        raise ValueError(f"{path}: larger than {_MAX_LIST_BYTES} bytes")
    return path.read_text(encoding="utf-8")


def _lines(path: Path) -> list[tuple[int, str]]:
    """Numbered lines that are not blank or whole-line comments."""
    lines = enumerate(_read_list(path).splitlines(), start=1)
    return [(number, line) for number, line in lines if line.strip() and not line.lstrip().startswith("#")]


def _list_date(path: Path) -> str | None:
    """The date in the list's header comment (`# date: 2026-11-25`), which says how fresh it is."""
    for line in _read_list(path).splitlines()[:20]:
        if line.startswith("#") and "date" in line.lower():
            found = _DATE.search(line)
            if found:
                return str(found.group(1))
    return None
