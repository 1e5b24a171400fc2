from __future__ import annotations

import ipaddress
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from service.parsing.ip_origin import (
    HostingList,
    IpList,
    IpOriginLookup,
    MmdbAsn,
    MmdbCountry,
    RegistryCountry,
    scope_of,
)

LISTS = Path(__file__).parents[2] / "files" / "text" / "lists"


@pytest.fixture(scope="module")
def origin() -> IpOriginLookup:
    return IpOriginLookup.load(lists_dir=LISTS, home_region="VN")


class FakeMmdb:
    """Stands in for a maxminddb Reader: records by address, and metadata with a build date."""

    def __init__(self, records: dict[str, dict[str, Any]]) -> None:
        self.records = records

    def get(self, address: object) -> dict[str, Any] | None:
        return self.records.get(str(address))

    def metadata(self) -> SimpleNamespace:
        return SimpleNamespace(build_epoch=1_767_225_600)  # 2026-01-01


def test_public_ipv4(origin: IpOriginLookup) -> None:
    info = origin.lookup("8.8.8.8")
    assert (info.scope, info.country, info.as_org) == ("public", "US", "GOOGLE")
    assert info.asn == 15169  # the name belongs to one listed ASN
    assert (info.foreign, info.tor, info.hosting) == (True, False, True)


def test_home_country_is_not_foreign(origin: IpOriginLookup) -> None:
    info = origin.lookup("14.160.1.1")
    assert info.country == "VN"
    assert info.foreign is False
    assert info.hosting is False
    assert info.asn is None  # geoip2fast has no AS numbers and VNPT is not in the list


def test_public_ipv6(origin: IpOriginLookup) -> None:
    info = origin.lookup("2001:4860:4860::8888")
    assert (info.scope, info.country, info.as_org, info.hosting) == ("public", "US", "GOOGLE", True)


@pytest.mark.parametrize(
    "mapped", ["::ffff:8.8.8.8", "::FFFF:0808:0808", "64:ff9b::808:808", "[::ffff:8.8.8.8]"]
)
def test_ipv4_inside_ipv6_counts_as_ipv4(origin: IpOriginLookup, mapped: str) -> None:
    assert origin.lookup(mapped).to_dict() == origin.lookup("8.8.8.8").to_dict()


def test_name_shared_by_two_asns_marks_hosting_without_a_number(origin: IpOriginLookup) -> None:
    info = origin.lookup("5.161.1.1")
    assert info.as_org == "Hetzner Online GmbH"
    assert info.hosting is True
    assert info.asn is None


@pytest.mark.parametrize(
    ("ip", "tor"),
    [
        ("198.96.155.3", True),
        ("185.220.101.5", True),
        ("185.220.104.1", False),
        ("2001:67c:e60:c0c::9", True),
    ],
)
def test_tor_list_addresses_and_blocks(origin: IpOriginLookup, ip: str, tor: bool) -> None:
    assert origin.lookup(ip).tor is tor


@pytest.mark.parametrize(
    ("ip", "scope"),
    [
        ("10.1.2.3", "private"),
        ("192.168.1.1", "private"),
        ("172.31.0.1", "private"),
        ("fd12::1", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.10.1", "link_local"),
        ("fe80::1", "link_local"),
        ("100.64.0.1", "shared"),
        ("192.0.2.10", "documentation"),
        ("2001:db8::1", "documentation"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("0.1.2.3", "bogon"),
        ("198.18.0.1", "bogon"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("4000::1", "reserved"),
        ("1.1.1.1", "public"),
    ],
)
def test_scopes(ip: str, scope: str) -> None:
    assert scope_of(ipaddress.ip_address(ip)) == scope


def test_non_public_addresses_get_no_geo_facts(origin: IpOriginLookup) -> None:
    info = origin.lookup("10.0.0.1")
    assert info.scope == "private"
    assert (info.country, info.asn, info.foreign, info.tor, info.hosting) == (None,) * 5


@pytest.mark.parametrize("raw", ["", "nonsense", "1.2.3", "1.2.3.4.5", "::g", "x" * 1000, "8.8.8.8\x00"])
def test_invalid_input(origin: IpOriginLookup, raw: str) -> None:
    info = origin.lookup(raw)
    assert info.scope == "invalid"
    assert len(info.ip) <= 100


def test_every_result_carries_data_versions(origin: IpOriginLookup) -> None:
    versions = origin.lookup("8.8.8.8").to_dict()["data_versions"]
    assert versions == {
        "country": RegistryCountry().version,
        "asn": "2024-06-18",
        "tor_list": "2026-01-02",
        "hosting_list": "2026-01-03",
    }
    assert origin.lookup("10.0.0.1").data_versions == origin.data_versions


def test_mmdb_sources_give_numbers_and_dates() -> None:
    countries = MmdbCountry(FakeMmdb({"203.113.1.1": {"country": {"iso_code": "VN"}}}))
    asns = MmdbAsn(
        FakeMmdb({"203.113.1.1": {"autonomous_system_number": 24940, "autonomous_system_organization": "X"}})
    )
    origin = IpOriginLookup(
        countries=countries,
        asns=asns,
        tor=None,
        hosting=HostingList.load(LISTS / "hosting-asns.txt"),
        home_region="vn",
    )
    info = origin.lookup("203.113.1.1")
    assert (info.country, info.asn, info.as_org, info.foreign, info.hosting) == (
        "VN",
        24940,
        "X",
        False,
        True,
    )
    assert info.tor is None  # no list loaded: unknown, not False
    assert origin.data_versions["country"] == "2026-01-01"
    unknown = origin.lookup("203.113.1.2")
    assert (unknown.country, unknown.asn, unknown.foreign, unknown.hosting) == (None, None, None, None)


def test_missing_lists_leave_flags_unknown(tmp_path: Path) -> None:
    origin = IpOriginLookup(
        countries=MmdbCountry(FakeMmdb({})),
        asns=MmdbAsn(FakeMmdb({"8.8.8.8": {"autonomous_system_number": 15169}})),
        tor=None,
        hosting=None,
    )
    info = origin.lookup("8.8.8.8")
    assert (info.tor, info.hosting, info.asn) == (None, None, 15169)


def test_malformed_lists_name_the_line(tmp_path: Path) -> None:
    bad_ip = tmp_path / "tor.txt"
    bad_ip.write_text("# date: 2026-01-01\n1.2.3.4\n1.2.3.400\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"tor.txt:3"):
        IpList.load(bad_ip)
    bad_asn = tmp_path / "asn.txt"
    bad_asn.write_text("16509  # AMAZON-02\nAmazon\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"asn.txt:2"):
        HostingList.load(bad_asn)


def test_repository_lists_load() -> None:
    lists = Path(__file__).parents[3] / "rules" / "lists"
    hosting = HostingList.load(lists / "hosting-asns.txt")
    assert {
        16509,
        8075,
        15169,
        14061,
        16276,
        24940,
        63949,
        20473,
        51167,
        45102,
        45090,
        31898,
        9009,
        60068,
    } <= (hosting.asns)
    assert hosting.date is not None
    tor = IpList.load(lists / "tor-exit-nodes.txt")
    assert tor.date is not None
    assert ipaddress.ip_address("185.220.101.1") in tor


def test_ipv4_in_an_unannounced_gap_has_no_as(origin: IpOriginLookup) -> None:
    # geoip2fast's own look-up names this AMAZON-02 with its IPv6-capable data; the IPv4 data has no AS.
    info = origin.lookup("15.233.130.55")
    assert info.scope == "public"
    assert (info.as_org, info.asn, info.hosting) == (None, None, None)
    assert origin.lookup("3.5.140.2").as_org == "AMAZON-02"
