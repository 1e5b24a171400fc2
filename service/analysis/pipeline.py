"""The one analysis pipeline: parse a report, look up its origin, find its entities, score it.

Pure: no database, no Redis. The API, `triage analyze` and the workers all call `Analyzer.analyze`,
and get the same analysis JSON (the public contract in the README).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from service.analysis.email_view import email_view
from service.analysis.inputs import ReportInput
from service.analysis.sms_view import sms_view
from service.analysis.template import template_sketch
from service.analysis.view import MessageView
from service.parsing.email import EmailLimits, EmailParseError, TrustConfig
from service.parsing.entities import extract_entities
from service.parsing.ip_origin import IpOriginLookup
from service.parsing.operator_facts import OperatorFactsError
from service.parsing.sender import SenderParseError
from service.scoring import RulesetHolder
from service.validation import without_nul

QUEUED_LEVELS = frozenset({"high", "critical"})
# What bad input to the analysis raises; callers answer these with a 422, anything else is a bug.
INPUT_ERRORS = (EmailParseError, OperatorFactsError, SenderParseError)


@dataclass(frozen=True)
class Analyzer:
    """Everything loaded once per process that an analysis needs."""

    home_region: str
    rules: RulesetHolder
    ip_lookup: IpOriginLookup
    email_limits: EmailLimits = field(default_factory=EmailLimits)
    trust: TrustConfig = field(default_factory=TrustConfig)

    def analyze(
        self, report: ReportInput, *, now: datetime, timings: dict[str, float] | None = None
    ) -> dict[str, Any]:
        """The analysis JSON of one report, without `id`, `queued` and `case_id` (the store adds those).

        `timings`, when given, receives the seconds spent parsing (message, origin, entities) and scoring: the
        caller reports them, so that this stays free of any metrics registry.
        """
        started = time.perf_counter()
        view = self._view(report, now=now)
        entities = extract_entities(view.text, default_region=self.home_region).to_dict()
        fields = {**view.fields, **_entity_fields(entities), "channel": report.channel}
        parsed = time.perf_counter()
        result = self.rules.score(fields, channel=report.channel)
        if timings is not None:
            timings["parse"] = parsed - started
            timings["scoring"] = time.perf_counter() - parsed
        analysis = {
            "channel": report.channel,
            "risk": {"score": result.score, "level": result.level, "lane": result.lane},
            "hits": [hit.to_dict() for hit in result.hits],
            "sender": view.sender,
            "origin": view.origin,
            "auth": view.auth,
            "entities": entities,
            "email": view.email,
            "text": {"length": len(view.text)},
            "defects": list(view.defects),
            "ruleset": {"version": result.version},
            "data_versions": self.ip_lookup.data_versions,
        }
        if report.channel != "email":
            return analysis
        # The template sketch serves only triage's linking. An SMS's text is stored as sent, so triage
        # computes its sketch (service.cases.sketches) and ingest is spared it; an email's text comes out of
        # the parse just done, which triage would have to repeat.
        analysis["template"] = {"sketch": template_sketch(view.text)}
        return _without_nul_if_any(analysis)

    def _view(self, report: ReportInput, *, now: datetime) -> MessageView:
        if report.channel == "email":
            assert report.email_raw is not None
            return email_view(
                report.email_raw,
                limits=self.email_limits,
                trust=self.trust,
                ip_lookup=self.ip_lookup,
                home_region=self.home_region,
            )
        assert report.sms is not None
        return sms_view(report.sms, home_region=self.home_region, now=now)

    @staticmethod
    def is_queued(analysis: dict[str, Any]) -> bool:
        """High and critical reports go to the analysts' review queue."""
        return analysis["risk"]["level"] in QUEUED_LEVELS


def _without_nul_if_any(analysis: dict[str, Any]) -> dict[str, Any]:
    # An email may hide NUL bytes in any header or part, and a NUL can be stored nowhere (PostgreSQL refuses
    # it). Serialising finds one far faster than a walk: in JSON it can only be written as \u0000.
    if b"\\u0000" in orjson.dumps(analysis):
        cleaned: dict[str, Any] = without_nul(analysis)
        return cleaned
    return analysis


def _entity_fields(entities: dict[str, Any]) -> dict[str, Any]:
    return {f"entities.{name}": values for name, values in entities.items()}
