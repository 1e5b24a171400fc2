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
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Final, Protocol

import iptocc
import re2

__all__ = ["HostingList", "IpInfo", "IpList", "IpOriginLookup", "scope_of"]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
TOR_FILE: Final = "tor-exit-nodes.txt"
HOSTING_FILE: Final = "hosting-asns.txt"
_MAX_INPUT: Final = 100
_MAX_LIST_BYTES: Final = 16 << 20
_DATE: Final = re2.compile(r"(\d{4}-\d{2}-\d{2})")


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
        return {**asdict(self), "data_versions": dict(self.data_versions)}


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


def _open_mmdb(path: Path) -> Any:
    import maxminddb

    return maxminddb.open_database(str(path), maxminddb.MODE_MEMORY)


DEFAULT_LISTS_DIR: Final = Path(__file__).resolve().parents[2] / "rules" / "lists"


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
            countries=MmdbCountry(_open_mmdb(country_mmdb)) if country_mmdb else RegistryCountry(),
            asns=MmdbAsn(_open_mmdb(asn_mmdb)) if asn_mmdb else GeoIp2FastAsn(),
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
