"""IP address helpers for Received parsing: RE2 fragments, validation and the private test.

RE2 has no lookaround, so the SpamAssassin IP_ADDRESS pattern is approximated by a permissive
fragment and every captured candidate is validated with `ipaddress`; a candidate that fails
validation makes the rule not match, as Perl backtracking would.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

_OCTET = rb"(?:1\d\d|2[0-4]\d|25[0-5]|[1-9]\d|\d)"
IPV4_RX = rb"\b" + _OCTET + rb"(?:\." + _OCTET + rb"){3}\b"
# IPv6 with optional "IPv6:" prefix; the embedded-IPv4 tail covers ::ffff:a.b.c.d forms.
_IPV6_RX = (
    rb"(?:[Ii][Pp][Vv]6:)?(?:(?:[0-9A-Fa-f]{0,4}:){2,6}" + _OCTET + rb"(?:\." + _OCTET + rb"){3}"
    rb"|(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})"
)
IP_RX = rb"(?:" + IPV4_RX + rb"|" + _IPV6_RX + rb")"

# SpamAssassin's IP_PRIVATE ranges (Constants.pm), plus the IPv6 ones it documents.
_PRIVATE_NETS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "fe80::/10",
        "::1/128",
    )
)


@lru_cache(maxsize=4096)
def normalize_ip(token: str) -> str | None:
    """Return the IP as SpamAssassin spells it (prefix, zone and ::ffff: removed), or None if invalid."""
    text = token.strip().strip("[]")
    if text[:5].lower() == "ipv6:":
        text = text[5:]
    zone = text.find("%")
    if zone >= 0:
        text = text[:zone]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None and "." in text:
        return str(addr.ipv4_mapped)
    return text


@lru_cache(maxsize=4096)
def is_private_ip(ip: str) -> bool:
    """True when the address is in SpamAssassin's private/reserved set (not on the public internet)."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr.version == net.version and addr in net for net in _PRIVATE_NETS)


@lru_cache(maxsize=4096)
def is_public_ip(ip: str) -> bool:
    """True for a globally routable unicast address."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return addr.is_global and not addr.is_multicast


def ip_in_networks(ip: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    """True when `ip` lies in one of `networks`."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr.version == net.version and addr in net for net in networks)
