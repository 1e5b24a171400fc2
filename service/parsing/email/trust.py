"""Trust along the relay chain, the origin IP, and the IP that reached the recipient's provider.

Default trust is SpamAssassin's inference: private, loopback and authenticated hops are trusted up
to the first public, unauthenticated hop. Configured trusted networks replace the inference, as in
SpamAssassin. Provider profiles (providers.yaml) say where the recipient's provider ends.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources

import yaml

from service.parsing.email.ipaddr import ip_in_networks, is_private_ip, is_public_ip
from service.parsing.email.model import Relay

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


@lru_cache(maxsize=1)
def provider_profiles() -> dict[str, tuple[str, ...]]:
    """The built-in provider profiles: name -> host suffixes."""
    text = resources.files("service.parsing.email").joinpath("providers.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return {name: tuple(s.lower() for s in entry["suffixes"]) for name, entry in data.items()}


@dataclass(frozen=True, slots=True)
class TrustConfig:
    """Where trust ends: configured networks (replacing inference) and provider profiles."""

    trusted_networks: tuple[str, ...] = ()
    providers: tuple[str, ...] | None = None  # None: every built-in profile
    trust_provider_hops: bool = False  # also trust the recipient provider's internal hops
    networks: tuple[Network, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        nets = tuple(ipaddress.ip_network(n, strict=False) for n in self.trusted_networks)
        object.__setattr__(self, "networks", nets + _LOOPBACK if nets else ())
        known = provider_profiles()
        unknown = [p for p in self.providers or () if p not in known]
        if unknown:
            raise ValueError(f"unknown provider profiles: {unknown}")

    def profiles(self) -> dict[str, tuple[str, ...]]:
        """The profiles in use."""
        known = provider_profiles()
        return known if self.providers is None else {p: known[p] for p in self.providers}


def _host_in(host: str | None, suffixes: tuple[str, ...]) -> bool:
    if not host:
        return False
    host = host.lower().rstrip(".")
    return any(host == s or host.endswith("." + s) for s in suffixes)


def _local_hop(relay: Relay) -> bool:
    """A hop inside the recipient's own machine or LAN (fetchmail, local filters), not a provider's."""
    by = (relay.by or "").lower()
    return not relay.ip or is_private_ip(relay.ip) or by == "localhost" or by.startswith("localhost.")


def recipient_provider(relays: list[Relay], config: TrustConfig) -> tuple[str, tuple[str, ...], int] | None:
    """The known provider that stamped the newest non-local Received hop: (name, suffixes, index)."""
    for index, relay in enumerate(relays):
        if relay.source != "received" or not relay.by:
            continue
        for name, suffixes in config.profiles().items():
            if _host_in(relay.by, suffixes):
                return name, suffixes, index
        if not _local_hop(relay):
            return None
    return None


def provider_boundary(relays: list[Relay], suffixes: tuple[str, ...], start: int) -> int | None:
    """Index of the hop where mail entered the provider: its 'by' is the provider's, its sender is not."""
    for index in range(start, len(relays)):
        relay = relays[index]
        if relay.source != "received" or not _host_in(relay.by, suffixes):
            break
        if not (
            _host_in(relay.rdns, suffixes) or _host_in(relay.helo, suffixes) or is_private_ip(relay.ip or "")
        ):
            return index
    return None  # the hop that entered the provider is missing or unreadable: do not guess


def assign_trust(relays: list[Relay], config: TrustConfig) -> list[Relay]:
    """Mark each relay trusted or not, SpamAssassin-style (trust ends at the first failing hop)."""
    out: list[Relay] = []
    in_trusted = True
    for relay in relays:
        if in_trusted:
            if config.networks:
                in_trusted = bool(relay.auth) or ip_in_networks(relay.ip or "", config.networks)
            else:
                in_trusted = bool(relay.auth) or is_private_ip(relay.ip or "")
        out.append(replace(relay, trusted=in_trusted))
    return out


def trust_provider_hops(relays: list[Relay], boundary: int | None) -> list[Relay]:
    """Extend trust through the recipient provider's own hops (for forwarded reports)."""
    if boundary is None:
        return relays
    return [replace(r, trusted=True) if i < boundary else r for i, r in enumerate(relays)]


def origin(relays: list[Relay]) -> tuple[str | None, str]:
    """The deepest untrusted public hop, and the rule that chose it."""
    for relay in reversed(relays):
        if not relay.trusted and relay.ip and is_public_ip(relay.ip):
            return relay.ip, f"deepest untrusted public hop ({relay.source})"
    if not relays:
        return None, "no relay named an IP"
    return None, "no untrusted public hop"


def provider_ip(
    relays: list[Relay], config: TrustConfig, sender_ip: str | None, spf_client_ip: str | None
) -> tuple[str | None, str, int | None]:
    """The IP that reached the recipient's provider, the rule, and the provider boundary index."""
    found = recipient_provider(relays, config)
    boundary = provider_boundary(relays, found[1], found[2]) if found else None
    if sender_ip:
        return sender_ip, "authentication-results: sender IP", boundary
    if spf_client_ip:
        return spf_client_ip, "received-spf: client-ip", boundary
    if found:
        if boundary is not None and relays[boundary].ip:
            return relays[boundary].ip, f"provider profile: {found[0]}", boundary
        return None, f"provider profile: {found[0]}, entry hop unreadable", boundary
    for relay in relays:
        if not relay.trusted and relay.ip:
            return relay.ip, "first untrusted hop", boundary
    return None, "no untrusted hop", boundary


def receiver_wrote_auth(
    authserv_id: str | None, relays: list[Relay], config: TrustConfig, boundary: int | None
) -> bool:
    """True when the topmost Authentication-Results comes from the receiving side (RFC 8601 section 5:
    trust only your own authserv-id): Microsoft's id-less form under Outlook, or an id in the same
    organisation as a host that stamped the chain down to where the mail came in."""
    provider = recipient_provider(relays, config)
    if authserv_id is None:
        return provider is not None and provider[0] == "outlook"
    if provider is not None and _host_in(authserv_id, provider[1]):
        return True
    first_untrusted = next((i for i, r in enumerate(relays) if not r.trusted), len(relays) - 1)
    last = max(first_untrusted, boundary if boundary is not None else -1)
    home = _org(authserv_id)
    return any(r.by and _org(r.by) == home for r in relays[: last + 1] if r.source == "received")


def _org(host: str) -> str:
    labels = host.lower().rstrip(".").split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3 else 2
    return ".".join(labels[-keep:])
