"""`RulesetHolder`: the active ruleset behind an atomic swap, for hot reload while requests are in flight.

Readers take one reference (`holder.current`) and score with it; a reload builds and tests a whole new
Ruleset before replacing that reference, so no request ever sees a half-loaded set. On failure the old set
stays and the errors are kept for `GET /v1/rules` and the log.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from service.scoring.errors import Issue, RulesetError
from service.scoring.loader import load_ruleset
from service.scoring.model import ScoreResult
from service.scoring.ruleset import Ruleset


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """What a reload did: `ok` means the new set is active; otherwise `issues` say why the old one stayed."""

    ok: bool
    version: str | None  # the active version after the attempt
    previous_version: str | None
    issues: tuple[Issue, ...] = field(default=())
    at: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready view."""
        return {
            "ok": self.ok,
            "version": self.version,
            "previous_version": self.previous_version,
            "issues": [i.to_dict() for i in self.issues],
            "at": self.at,
        }


class RulesetHolder:
    """Holds the active Ruleset, swaps it atomically, and counts hits per rule for this process."""

    def __init__(self, ruleset: Ruleset | None = None) -> None:
        self._current = ruleset
        self._reload_lock = threading.Lock()
        self._counts_lock = threading.Lock()
        self._hit_counts: Counter[str] = Counter()
        self.last_reload: ReloadResult | None = None

    @property
    def current(self) -> Ruleset:
        """The active ruleset (one reference read: atomic under the GIL and free-threaded builds alike)."""
        ruleset = self._current
        if ruleset is None:
            raise RulesetError([Issue("rules", None, "no ruleset loaded")])
        return ruleset

    def reload(self, rules_dir: Path) -> ReloadResult:
        """Validate `rules_dir` fully (tests included) and swap it in; keep the old set on any error."""
        with self._reload_lock:
            previous = self._current.version if self._current is not None else None
            try:
                fresh = load_ruleset(rules_dir, run_tests=True)
            except RulesetError as exc:
                result = ReloadResult(False, previous, previous, exc.issues, time.time())
            except OSError as exc:
                issue = Issue(str(rules_dir), None, f"cannot read rules: {exc}")
                result = ReloadResult(False, previous, previous, (issue,), time.time())
            else:
                self._current = fresh
                result = ReloadResult(True, fresh.version, previous, fresh.warnings, time.time())
            self.last_reload = result
            return result

    def score(self, fields: Mapping[str, object], *, channel: str) -> ScoreResult:
        """Score with the active set and count the hits."""
        result = self.current.score(fields, channel=channel)
        if result.hits:
            self.record_hits(hit.rule for hit in result.hits)
        return result

    def record_hits(self, rule_ids: Iterable[str]) -> None:
        """Count hits scored elsewhere: the API counts those its intake processes report back."""
        with self._counts_lock:
            self._hit_counts.update(rule_ids)

    def status(self) -> dict[str, object]:
        """JSON-ready state for `GET /v1/rules`: version, last reload and each rule with its hit count."""
        ruleset = self._current
        with self._counts_lock:
            counts = dict(self._hit_counts)
        rules = (
            [] if ruleset is None else [{**r.to_dict(), "hits": counts.get(r.id, 0)} for r in ruleset.rules]
        )
        return {
            "version": None if ruleset is None else ruleset.version,
            "last_reload": None if self.last_reload is None else self.last_reload.to_dict(),
            "rules": rules,
        }
