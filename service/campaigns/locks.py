"""Correlation locks: two triage transactions never change the same report or campaign at the same time.

PostgreSQL: a triage transaction holds a transaction advisory lock on each report it links (its own and the
loose ones it sweeps in) and on each campaign it joins or merges, so workers triaging unrelated reports run
side by side, while two that would found twin campaigns for one sender, or count one campaign's case at once,
take turns. Every lock it can foresee is taken in one pass, in sorted order, before it reads what it will
change: two transactions never wait on each other in a cycle. A lock found needed later (the database moved
on in between) is only tried; when another transaction holds it, triage stops with `CorrelationBusy` and is
run again alone: the exclusive lock every triage otherwise holds in shared mode.

SQLite has one writer at a time: the transaction's first write takes the database's write lock until commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import bindparam, text, update
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.orm import Session

from service.campaigns.models import Campaign
from service.campaigns.service import foresee_changes

ALL_CORRELATION = 0x7472_6961  # "tria": shared by every triage, exclusive for one that must run alone
# One transaction holding thousands of locks would crowd PostgreSQL's shared lock table (64 per connection
# by default): a batch that needs more runs alone instead. A batch of 50 reports needs 50 to 100.
MAX_LOCKS = 256
_KEYS = bindparam("keys", type_=ARRAY(BIGINT))
# unnest() yields the keys in the array's order, and each row's lock is taken before the next row is read.
_LOCK_IN_ORDER = text("SELECT pg_advisory_xact_lock(key) FROM unnest(:keys) AS key").bindparams(_KEYS)
_TRY_LOCKS = text("SELECT key FROM unnest(:keys) AS key WHERE NOT pg_try_advisory_xact_lock(key)").bindparams(
    _KEYS
)


class CorrelationBusy(Exception):
    """Another triage holds a report or campaign this one found it must change: run it again alone."""


def lock_key(kind: str, identifier: str) -> int:
    """A report's or campaign's advisory lock key: 64 bits of a hash of its kind and id."""
    digest = hashlib.blake2b(f"{kind}:{identifier}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _keys(report_ids: Iterable[str | None], campaign_ids: Iterable[str | None]) -> set[int]:
    return {lock_key("report", id_) for id_ in report_ids if id_} | {
        lock_key("campaign", id_) for id_ in campaign_ids if id_
    }


class CorrelationLocks:
    """The locks one triage transaction holds; `ensure` before changing anything not foreseen."""

    def __init__(self, db_session: Session, *, held: set[int], alone: bool) -> None:
        self.db_session = db_session
        self.held = held
        self.alone = alone

    @classmethod
    def take(
        cls,
        db_session: Session,
        indicators: Mapping[str, Sequence[tuple[str, str]]],
        *,
        since: datetime,
        alone: bool = False,
    ) -> CorrelationLocks:
        """Lock what triaging these reports (id: their indicators) is foreseen to change, or all correlation
        when `alone`; waits for the locks as long as it takes."""
        if db_session.get_bind().dialect.name != "postgresql":
            db_session.execute(update(Campaign).where(Campaign.id == "").values(case_id=None))
            return cls(db_session, held=set(), alone=True)
        if alone:
            return cls._alone(db_session)
        foreseen = foresee_changes(db_session, indicators, since=since)
        keys = _keys(foreseen.report_ids, foreseen.campaign_ids)
        if len(keys) > MAX_LOCKS:
            return cls._alone(db_session)
        db_session.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": ALL_CORRELATION})
        db_session.execute(_LOCK_IN_ORDER, {"keys": sorted(keys)})
        return cls(db_session, held=keys, alone=False)

    @classmethod
    def _alone(cls, db_session: Session) -> CorrelationLocks:
        db_session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ALL_CORRELATION})
        return cls(db_session, held=set(), alone=True)

    def ensure(
        self, *, report_ids: Iterable[str | None] = (), campaign_ids: Iterable[str | None] = ()
    ) -> bool:
        """Take the locks not held yet, without waiting; True when it took any: what they guard may have
        changed since it was read. Raises `CorrelationBusy` if another transaction holds one."""
        if self.alone:
            return False
        missing = _keys(report_ids, campaign_ids) - self.held
        if not missing:
            return False
        if len(self.held) + len(missing) > MAX_LOCKS:
            raise CorrelationBusy(f"{len(self.held) + len(missing)} locks are more than one triage may hold")
        busy = set(self.db_session.scalars(_TRY_LOCKS, {"keys": sorted(missing)}))
        self.held |= missing - busy
        if busy:
            raise CorrelationBusy(f"{len(busy)} report(s) or campaign(s) are being triaged by another worker")
        return True
