"""Where an IP address comes from, offline: scope, country, AS, and foreign / Tor / hosting flags.

- Country: the registries' assignment (iptocc), or a MaxMind/DB-IP country `.mmdb` when configured.
- ASN and AS organisation: an ASN `.mmdb` when configured, else geoip2fast, whose data (derived from
  GeoLite2, whose licence applies) carries AS names but no numbers. Then `asn` is filled only when the
  name belongs to exactly one AS of the hosting list, and is None otherwise (unknown, not guessed).
- `tor`: the address or its block is in rules/lists/tor-exit-nodes.txt. `hosting`: the ASN, or the AS
  name when the number is unknown, is in rules/lists/hosting-asns.txt (`ASN  # name`).
- Non-public addresses (private, loopback, reserved, bogon…) get their `scope` and no geo facts.
  An IPv4-mapped IPv6 address is looked up as its IPv4 address.
- Build one IpOriginLookup with `load()` and share it: loading takes ~0.5 s, a look-up microseconds.
  Every IpInfo carries `data_versions`, the date of the geo data and of each list.
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Final

from service.parsing.data.geo_sources import (
    AsnSource,
    CountrySource,
    GeoIp2FastAsn,
    MmdbAsn,
    MmdbCountry,
    RegistryCountry,
    open_mmdb,
)
from service.parsing.data.ip_lists import HostingList, IpList
from service.parsing.records import record_dict

__all__ = [
    "HostingList",
    "IpInfo",
    "IpList",
    "IpOriginLookup",
    "MmdbAsn",
    "MmdbCountry",
    "RegistryCountry",
    "scope_of",
]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
TOR_FILE: Final = "tor-exit-nodes.txt"
HOSTING_FILE: Final = "hosting-asns.txt"
_MAX_INPUT: Final = 100
DEFAULT_LISTS_DIR: Final = Path(__file__).resolve().parents[2] / "rules" / "lists"


@dataclass(frozen=True, slots=True)
class IpInfo:
    """What is known of one address; None is unknown (or not applicable to a non-public scope)."""

    ip: str
    scope: str
    country: str | None = None
    asn: int | None = None
    as_org: str | None = None
    foreign: bool | None = None
    tor: bool | None = None
    hosting: bool | None = None
    data_versions: Mapping[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields."""
        return {**record_dict(self), "data_versions": dict(self.data_versions)}


# IANA special-purpose blocks (RFC 6890 and successors). Checked with one bisect: ipaddress's
# is_private / is_global walk lists of networks and cost ~20 µs an address.
_SPECIAL_BLOCKS: Final = [
    ("0.0.0.0/8", "bogon"), ("10.0.0.0/8", "private"), ("100.64.0.0/10", "shared"),  # shared: CGNAT
    ("127.0.0.0/8", "loopback"), ("169.254.0.0/16", "link_local"), ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "bogon"), ("192.0.2.0/24", "documentation"), ("192.88.99.0/24", "reserved"),
    ("192.168.0.0/16", "private"), ("198.18.0.0/15", "bogon"), ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"), ("224.0.0.0/4", "multicast"), ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"), ("::1/128", "loopback"), ("100::/64", "bogon"), ("2001::/23", "reserved"),
    ("2001:db8::/32", "documentation"), ("3fff::/20", "documentation"), ("fc00::/7", "private"),
    ("fe80::/10", "link_local"), ("fec0::/10", "reserved"), ("ff00::/8", "multicast"),
]  # fmt: skip
_MAPPED_PREFIX: Final = bytes(10) + b"\xff\xff"  # ::ffff:0:0/96
_NAT64_PREFIX: Final = bytes.fromhex("0064ff9b") + bytes(8)  # 64:ff9b::/96


def _special_table(version: int) -> tuple[list[int], list[int], list[str]]:
    blocks = sorted(
        (int(net.network_address), int(net.broadcast_address), name)
        for net, name in ((ipaddress.ip_network(cidr), name) for cidr, name in _SPECIAL_BLOCKS)
        if net.version == version
    )
    return [b[0] for b in blocks], [b[1] for b in blocks], [b[2] for b in blocks]


_SPECIAL: Final = {4: _special_table(4), 6: _special_table(6)}


def scope_of(address: IpAddress) -> str:
    """The scope: public, private, loopback, link_local, multicast, shared, reserved, bogon..."""
    return _scope(address.version, int(address))


def _scope(version: int, key: int) -> str:
    if version == 4 and key == 0:
        return "unspecified"
    starts, ends, names = _SPECIAL[version]
    index = bisect.bisect_right(starts, key) - 1
    if index >= 0 and key <= ends[index]:
        return names[index]
    if version == 6 and key >> 125 != 1:
        return "reserved"  # outside 2000::/3 nothing is allocated for unicast
    return "public"


class IpOriginLookup:
    """Answers `lookup(ip)` from data loaded once; share one instance per process."""

    def __init__(
        self,
        *,
        countries: CountrySource,
        asns: AsnSource,
        tor: IpList | None,
        hosting: HostingList | None,
        home_region: str = "VN",
    ) -> None:
        self._countries = countries
        self._asns = asns
        self._tor = tor
        self._hosting = hosting
        self._home = home_region.upper()
        self.data_versions: dict[str, str | None] = {
            "country": countries.version,
            "asn": asns.version,
            "tor_list": tor.date if tor else None,
            "hosting_list": hosting.date if hosting else None,
        }
        self.lookup = lru_cache(maxsize=65536)(self._lookup)

    @classmethod
    def load(
        cls,
        *,
        lists_dir: Path = DEFAULT_LISTS_DIR,
        home_region: str = "VN",
        country_mmdb: Path | None = None,
        asn_mmdb: Path | None = None,
    ) -> IpOriginLookup:
        """Load the geo data and the lists; a missing list leaves its flag unknown (None)."""
        tor_path, hosting_path = lists_dir / TOR_FILE, lists_dir / HOSTING_FILE
        return cls(
            countries=MmdbCountry(open_mmdb(country_mmdb)) if country_mmdb else RegistryCountry(),
            asns=MmdbAsn(open_mmdb(asn_mmdb)) if asn_mmdb else GeoIp2FastAsn(),
            tor=IpList.load(tor_path) if tor_path.exists() else None,
            hosting=HostingList.load(hosting_path) if hosting_path.exists() else None,
            home_region=home_region,
        )

    def _lookup(self, ip: str) -> IpInfo:
        """Look one address up; text that is not an address gets scope "invalid"."""
        parsed = _address(ip)
        if parsed is None:
            return IpInfo(ip[:_MAX_INPUT], "invalid", data_versions=self.data_versions)
        version, key, text = parsed
        scope = _scope(version, key)
        if scope != "public":
            return IpInfo(text, scope, data_versions=self.data_versions)
        country = self._countries.country(text, key)
        asn, as_org = self._asns.asn(text, key)
        if asn is None and as_org is not None and self._hosting is not None:
            asn = self._hosting.asn_by_name.get(as_org.casefold())
        return IpInfo(
            ip=text,
            scope=scope,
            country=country,
            asn=asn,
            as_org=as_org,
            foreign=None if country is None else country != self._home,
            tor=None if self._tor is None else self._tor.holds(version, key),
            hosting=self._is_hosting(asn, as_org),
            data_versions=self.data_versions,
        )

    def _is_hosting(self, asn: int | None, as_org: str | None) -> bool | None:
        if self._hosting is None or (asn is None and as_org is None):
            return None
        if asn is not None:
            return asn in self._hosting.asns
        return as_org is not None and as_org.casefold() in self._hosting.asn_by_name


def _address(ip: str) -> tuple[int, int, str] | None:
    """(version, integer, canonical text); IPv4 for IPv4-mapped and NAT64 addresses; None if invalid.

    socket.inet_pton/inet_ntop parse and print in C: ipaddress takes ~10 µs for an IPv6 address.
    inet_pton is strict (no leading zeros, no short forms such as "1.2.3").
    """
    if len(ip) > _MAX_INPUT:
        return None
    text = ip.strip().strip("[]").split("%", 1)[0]  # an IPv6 zone id does not change the origin
    try:
        if ":" in text:
            packed = socket.inet_pton(socket.AF_INET6, text)
            if packed[:12] not in (_MAPPED_PREFIX, _NAT64_PREFIX):
                return 6, int.from_bytes(packed, "big"), socket.inet_ntop(socket.AF_INET6, packed)
            packed = packed[12:]
        else:
            packed = socket.inet_pton(socket.AF_INET, text)
    except (OSError, ValueError):
        return None
    return 4, int.from_bytes(packed, "big"), socket.inet_ntop(socket.AF_INET, packed)
