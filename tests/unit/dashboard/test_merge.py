"""service.cases.merge: N cases fold into the most urgent one, inside one campaign."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.cases.merge import merge_cases
from service.cases.models import Case, CaseEvent
from service.cases.workflow import LEVEL_RANK
from service.db import Database, utcnow
from service.errors import Conflict, NotFound, UnprocessableContent
from service.ingest.models import Report
from tests.unit.dashboard.conftest import post_report


def test_three_cases_become_one_with_all_reports(client: TestClient, reporter_key: str, db: Database) -> None:
    ids = [post_report(client, reporter_key, name)["case_id"]
           for name in ("sms_hostile.json", "sms_critical.json", "sms_second.json")]  # fmt: skip
    with db.session() as db_session:
        before = {case.id: case.level for case in db_session.scalars(select(Case)).all()}
        top = max(LEVEL_RANK[level] for level in before.values())
        expected = next(case_id for case_id in ids if LEVEL_RANK[before[case_id]] == top)
        primary = merge_cases(db_session=db_session, case_ids=ids, actor="ana", now=utcnow())
        db_session.commit()
        cases = {case.id: case for case in db_session.scalars(select(Case)).all()}
        reports = db_session.scalars(select(Report)).all()
        kinds = db_session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == primary.id)).all()
    assert primary.id == expected  # the highest level, then the oldest
    assert primary.report_count == 3
    assert primary.level == "critical"
    assert {report.case_id for report in reports} == {primary.id}
    assert {report.campaign_id for report in reports} == {primary.campaign_id}
    for case_id in set(ids) - {primary.id}:
        assert cases[case_id].merged_into == primary.id
        assert (cases[case_id].status, cases[case_id].resolution) == ("closed", "duplicate")
    assert kinds.count("absorbed") == 2
    assert "merged_cases" in kinds


def test_merge_refuses_bad_requests(client: TestClient, reporter_key: str, db: Database) -> None:
    first = post_report(client, reporter_key, "sms_critical.json")["case_id"]
    second = post_report(client, reporter_key, "sms_second.json")["case_id"]
    with db.session() as db_session:
        with pytest.raises(UnprocessableContent):
            merge_cases(db_session=db_session, case_ids=[first, first], actor="ana", now=utcnow())
        with pytest.raises(NotFound):
            merge_cases(db_session=db_session, case_ids=[first, "nope"], actor="ana", now=utcnow())
        merge_cases(db_session=db_session, case_ids=[first, second], actor="ana", now=utcnow())
        db_session.commit()
        with pytest.raises(Conflict):
            merge_cases(db_session=db_session, case_ids=[first, second], actor="ana", now=utcnow())
