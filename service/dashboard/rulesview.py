"""The rules page: the live ruleset's status, and each rule's record in stored reports and verdicts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.cases.models import Case
from service.ingest.models import Report

SCAN_REPORTS = 5000
MAX_EXAMPLES = 5
# A verdict saying the report was not what the rules thought; other resolutions (but duplicate) confirm.
FALSE_POSITIVE = frozenset({"not_a_threat"})
NOT_A_VERDICT = frozenset({"duplicate"})


@dataclass(frozen=True)
class RuleRecord:
    """A rule's stored hits and how analysts judged the reports it hit."""

    stored_hits: int
    shadow_hits: int
    confirmed: int
    rejected: int
    # For a shadow rule: the cases of the newest reports it would have hit (what turning it on would change).
    shadow_cases: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        judged = self.confirmed + self.rejected
        return None if judged == 0 else self.confirmed / judged


def rule_records(db_session: Session) -> dict[str, RuleRecord]:
    """Per rule: hits in the newest stored reports, shadow hits, and verdicts on the reports it hit."""
    stored: Counter[str] = Counter()
    shadow: Counter[str] = Counter()
    confirmed: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    rows = db_session.execute(
        select(Report.analysis, Case.id, Case.status, Case.resolution)
        .outerjoin(Case, Case.id == Report.case_id)
        .order_by(Report.received_at.desc())
        .limit(SCAN_REPORTS)
    )
    for analysis, case_id, status, resolution in rows:
        judged = status == "closed" and resolution and resolution not in NOT_A_VERDICT
        for hit in (analysis or {}).get("hits") or []:
            rule = str(hit.get("rule"))
            (shadow if hit.get("shadow") else stored)[rule] += 1
            if hit.get("shadow") and case_id and len(examples.setdefault(rule, [])) < MAX_EXAMPLES:
                examples[rule].append(case_id)
            if judged and not hit.get("shadow"):
                (rejected if resolution in FALSE_POSITIVE else confirmed)[rule] += 1
    names = set(stored) | set(shadow)
    return {
        name: RuleRecord(stored[name], shadow[name], confirmed[name], rejected[name], examples.get(name, []))
        for name in names
    }


def rules_table(status: dict[str, Any], records: dict[str, RuleRecord]) -> list[dict[str, Any]]:
    """The active rules with their live hit counts (this process) and stored records."""
    empty = RuleRecord(0, 0, 0, 0)
    rows = []
    for rule in status.get("rules") or []:
        record = records.get(str(rule.get("id")), empty)
        # Experimental rules are the shadow rules: they run and record hits but add nothing to the score.
        shadow = bool(rule.get("shadow")) or rule.get("status") == "experimental"
        rows.append({**rule, "shadow": shadow, "record": record})
    return sorted(rows, key=lambda row: (not row.get("shadow"), str(row.get("id"))))
