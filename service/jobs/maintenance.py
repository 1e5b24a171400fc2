"""Background upkeep in the worker pool: rescoring when the rules change, and the retention purge."""

from __future__ import annotations

import logging
import threading
import time

from service.analysis.pipeline import Analyzer
from service.cases.rescore import rescore_open_cases
from service.cases.retention import purge_expired
from service.db import Database, utcnow
from service.ruleset.reloader import RulesReloader

log = logging.getLogger(__name__)


class Maintenance:
    """Every `every` seconds: reload changed rules and rescore open cases; every `purge_every`: purge."""

    def __init__(self, db: Database, analyzer: Analyzer, reloader: RulesReloader, *, retention_days: int,
                 every: float = 30.0, purge_every: float = 3600.0) -> None:  # fmt: skip
        self.db = db
        self.analyzer = analyzer
        self.reloader = reloader
        self.retention_days = retention_days
        self.every = every
        self.purge_every = purge_every
        self._scored_version: str | None = None
        self._last_purge = 0.0

    def tick(self) -> None:
        """One round of upkeep."""
        self.reloader.check_for_changes()
        version = self.analyzer.rules.current.version
        if version != self._scored_version:
            with self.db.session() as db_session:
                count = rescore_open_cases(db_session=db_session, analyzer=self.analyzer, now=utcnow())
            log.info("rules %s: %d report(s) of open cases rescored", version, count)
            self._scored_version = version
        if time.monotonic() - self._last_purge >= self.purge_every:
            self._last_purge = time.monotonic()
            with self.db.session() as db_session:
                purged = purge_expired(
                    db_session=db_session, retention_days=self.retention_days, now=utcnow()
                )
            if purged:
                log.info("retention: %d report(s) anonymised", purged)

    def run(self, stop: threading.Event) -> None:
        """Tick until `stop`; an error is logged and retried next time."""
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # upkeep must outlive a bad moment in the database
                log.warning("maintenance failed; retrying in %.0fs", self.every, exc_info=True)
            stop.wait(self.every)
