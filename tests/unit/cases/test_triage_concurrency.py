"""Triage in two transactions at once, on PostgreSQL: linked reports take turns, unrelated ones do not wait.

The workers run one triage transaction each; these tests hold one open in the test's thread and run the other
in a second thread, so the interleaving is not left to chance.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.campaigns.service import Foreseen
from service.cases.models import Case
from service.cases.triage import TriagePolicy, triage_committed, triage_reports, write_indicators_committed
from service.db import Database, utcnow
from service.ingest.models import Report

POLICY = TriagePolicy(lanes={"critical": "urgent", "high": "review"})
PRIZE = "Chúc mừng thuê bao {} đã trúng thưởng xe SH, vui lòng liên hệ tổng đài để nhận giải trước ngày 30/11"
PARCEL = "Bưu phẩm {} của quý khách bị giữ tại hải quan, nộp phí thông quan để nhận hàng trong hôm nay"
BLOCKED_FOR = 1.0  # seconds a waiting transaction is watched to stay blocked
FINISHES_WITHIN = 30.0


@pytest.fixture(autouse=True)
def _postgres_only(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: there is no concurrent triage to test")


def post_sms(client: TestClient, auth: dict[str, str], *, sender: str, text: str, count: int) -> list[str]:
    ids = []
    for i in range(count):
        body = {
            "channel": "sms",
            "reporter": {"msisdn": f"09130{i:05d}"},
            "sms": {"sender": sender, "text": text.format(i)},
        }
        response = client.post("/v1/reports", json=body, headers=auth)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


@contextmanager
def triage_left_open(db: Database, report_ids: Sequence[str]) -> Iterator[None]:
    """Triage in a transaction that commits only when the block ends: it holds its locks until then.

    The reports' indicator rows are committed first, as triage_committed does."""
    write_indicators_committed(db, report_ids, POLICY, now=utcnow())
    with db.session() as db_session:
        triage_reports(db_session=db_session, report_ids=report_ids, policy=POLICY, now=utcnow())
        yield
        db_session.commit()


def in_thread(work: Callable[[], object]) -> tuple[threading.Thread, threading.Event, list[BaseException]]:
    done, errors = threading.Event(), []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported to the test's thread
            errors.append(exc)
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, done, errors


def one_campaign_counted(db_session: Session, report_ids: Sequence[str]) -> Case:
    """Every report in one campaign whose one open case counts them all; returns that case."""
    campaigns = db_session.scalars(
        select(Report.campaign_id).where(Report.id.in_(report_ids)).distinct()
    ).all()
    assert len(campaigns) == 1
    assert campaigns[0] is not None
    [case] = db_session.scalars(select(Case).where(Case.status != "closed")).all()
    assert case.campaign_id == campaigns[0]
    assert case.report_count == len(report_ids)
    assert db_session.scalar(select(func.count(Report.id)).where(Report.case_id == case.id)) == len(
        report_ids
    )
    unenriched = select(func.count(Report.id)).where(Report.id.in_(report_ids), Report.enriched_at.is_(None))
    assert db_session.scalar(unenriched) == 0
    return case


def test_reports_of_one_sender_triaged_at_once_make_one_campaign(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    ids = post_sms(client, auth, sender="0961230001", text=PRIZE, count=12)
    first, second = ids[0::2], ids[1::2]
    with triage_left_open(db, first):
        thread, done, errors = in_thread(lambda: triage_committed(db, second, POLICY, now=utcnow()))
        assert not done.wait(BLOCKED_FOR), "the second worker waits: the same sender's reports"
    thread.join(FINISHES_WITHIN)
    assert done.is_set()
    assert not errors
    with db.session() as db_session:
        case = one_campaign_counted(db_session, ids)
        assert case.level == "high"


def test_unrelated_reports_are_triaged_side_by_side(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    prize = post_sms(client, auth, sender="0961230002", text=PRIZE, count=6)
    parcel = post_sms(client, auth, sender="0961230003", text=PARCEL, count=6)
    with triage_left_open(db, prize):
        _thread, done, errors = in_thread(lambda: triage_committed(db, parcel, POLICY, now=utcnow()))
        assert done.wait(FINISHES_WITHIN), "another sender's reports need no lock the first worker holds"
        assert not errors
    with db.session() as db_session:
        campaigns = db_session.scalars(select(Report.campaign_id).distinct()).all()
        assert len(campaigns) == 2
        assert db_session.scalar(select(func.count(Case.id)).where(Case.status != "closed")) == 2


def test_a_lock_not_foreseen_and_taken_elsewhere_runs_the_batch_again_alone(
    client: TestClient, auth: dict[str, str], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Triage finds, after its locks, that it must sweep in a report another worker holds: it waits for that
    worker by running again under the exclusive lock, instead of waiting while holding locks of its own."""
    ids = post_sms(client, auth, sender="0961230004", text=PRIZE, count=6)
    with triage_left_open(db, ids[:3]):
        # As if the first worker's reports were stored after the second one looked ahead.
        monkeypatch.setattr(
            "service.campaigns.locks.foresee_changes",
            lambda _session, indicators, since: Foreseen(frozenset(indicators), frozenset()),
        )
        thread, done, errors = in_thread(lambda: triage_committed(db, ids[3:], POLICY, now=utcnow()))
        assert not done.wait(BLOCKED_FOR), "running alone waits for every other triage to commit"
    thread.join(FINISHES_WITHIN)
    assert done.is_set()
    assert not errors
    with db.session() as db_session:
        one_campaign_counted(db_session, ids)


def test_two_workers_crossing_two_campaigns_neither_deadlock_nor_split_them(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    """Each batch holds both senders' reports, in opposite orders: sorted locks leave no cycle to wait in."""
    prize = post_sms(client, auth, sender="0961230005", text=PRIZE, count=8)
    parcel = post_sms(client, auth, sender="0961230006", text=PARCEL, count=8)
    batches = [prize[:4] + parcel[:4], parcel[4:] + prize[4:]]
    start = threading.Barrier(len(batches))

    def worker(batch: list[str]) -> None:
        start.wait()
        triage_committed(db, batch, POLICY, now=utcnow())

    runs = [in_thread(partial(worker, batch)) for batch in batches]
    for thread, done, errors in runs:
        thread.join(FINISHES_WITHIN)
        assert done.is_set()
        assert not errors
    with db.session() as db_session:
        for ids in (prize, parcel):
            campaigns = db_session.scalars(
                select(Report.campaign_id).where(Report.id.in_(ids)).distinct()
            ).all()
            assert len(campaigns) == 1
            case = db_session.scalar(
                select(Case).where(Case.campaign_id == campaigns[0], Case.status != "closed")
            )
            assert case is not None
            assert case.report_count == len(ids)
