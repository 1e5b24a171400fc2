"""RQ jobs: importable, ids in, no logic here; each opens a session and calls the service."""

from __future__ import annotations

from functools import lru_cache

from service.cases.service import triage_case as triage_case_service
from service.config import get_settings
from service.db import Database
from service.runtime import build_database


@lru_cache(maxsize=1)
def _database() -> Database:
    return build_database(get_settings())


def triage_case(case_id: str) -> None:
    """Enrich a queued case so it stands, ready, in the analysts' queue. Idempotent: safe to retry."""
    with _database().session() as db_session:
        triage_case_service(db_session=db_session, case_id=case_id)
        db_session.commit()
