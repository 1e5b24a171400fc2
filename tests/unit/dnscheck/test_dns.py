"""DNS checks against a real (tiny) DNS server on loopback, and against one that never answers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from fastapi.testclient import TestClient

from service.db import Database
from service.dnscheck.lookups import dns_facts, make_resolver
from service.dnscheck.service import check_dns
from service.ingest.models import Report
from tests.conftest import FILES

ZONE = {
    ("4.101.220.185.in-addr.arpa.", "PTR"): ["tor-exit.example."],
    ("vietcombank.com.vn.", "TXT"): [
        '"v=spf1 include:_spf.vietcombank.com.vn -all"',
        '"google-site-verification=x"',
    ],
    ("_dmarc.vietcombank.com.vn.", "TXT"): ['"v=DMARC1; p=reject; rua=mailto:d@vietcombank.com.vn"'],
}


@pytest.fixture
def nameserver() -> Iterator[str]:
    """A UDP DNS server answering from ZONE, NXDOMAIN for anything else."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            values = ZONE.get((question.name.to_text(), dns.rdatatype.to_text(question.rdtype)))
            if values:
                rdtype = dns.rdatatype.to_text(question.rdtype)
                response.answer.append(dns.rrset.from_text(question.name, 60, "IN", rdtype, *values))
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            sock.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    thread.join()
    sock.close()


def test_reverse_dns_spf_and_dmarc_from_the_resolver(nameserver: str) -> None:
    facts = dns_facts(make_resolver(nameserver), ip="185.220.101.4", domain="vietcombank.com.vn")
    assert facts.reverse_dns == "tor-exit.example"
    assert facts.spf_record == "v=spf1 include:_spf.vietcombank.com.vn -all"
    assert facts.dmarc_policy == "reject"


def test_unknown_names_are_none(nameserver: str) -> None:
    facts = dns_facts(make_resolver(nameserver), ip="192.0.2.1", domain="no-such-domain.example")
    assert facts.to_dict() == {
        "reverse_dns": None,
        "spf_record": None,
        "dmarc_record": None,
        "dmarc_policy": None,
    }


def test_a_silent_resolver_costs_at_most_its_timeout() -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        started = time.monotonic()
        facts = dns_facts(make_resolver(f"127.0.0.1:{silent.getsockname()[1]}", timeout=0.3), ip="192.0.2.1",
                          domain="example.org")  # fmt: skip
        assert time.monotonic() - started < 0.3 * 3 + 1
        assert facts.reverse_dns is None
    finally:
        silent.close()


def test_the_job_keeps_the_facts_with_an_email_report(
    client: TestClient, auth: dict[str, str], db: Database, nameserver: str
) -> None:
    raw = (FILES / "reports" / "extortion.eml").read_bytes()
    report = client.post(
        "/v1/reports", content=raw, headers={**auth, "Content-Type": "message/rfc822"}
    ).json()
    with db.session() as db_session:
        assert check_dns(db_session=db_session, report_id=report["id"], nameserver=nameserver)
        db_session.commit()
    with db.session() as db_session:
        stored = db_session.get(Report, report["id"])
        assert stored is not None
        assert stored.analysis["dns"]["dmarc_policy"] == "reject"
        assert not check_dns(db_session=db_session, report_id=report["id"], nameserver=nameserver)
