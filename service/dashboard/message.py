"""A stored report's message as plain text, cut into segments where rule evidence is highlighted.

The text is rebuilt from the stored raw request exactly as the analysis saw it, so evidence spans (offsets
into that text) line up. It is never rendered as HTML: templates print the segments, autoescaped.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Any

from service.analysis.pipeline import Analyzer
from service.errors import ProblemError
from service.ingest.models import Report
from service.ingest.requests import submission_from_body
from service.parsing.email import EmailParseError, parse_email

MAX_DISPLAY_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text, and the rules (with their scores) whose evidence covers it."""

    text: str
    rules: tuple[str, ...]
    score: float


def message_text(report: Report, analyzer: Analyzer) -> str | None:
    """The text the rules were run on, or None when the stored input can no longer be read."""
    try:
        submission = submission_from_body(report.raw, content_type=report.content_type, idempotency_key=None)
    except ProblemError:
        return None
    if submission.report.sms is not None:
        return submission.report.sms.text
    raw = submission.report.email_raw or b""
    try:
        parsed = parse_email(raw, limits=analyzer.email_limits, trust=analyzer.trust)
    except EmailParseError:
        return None
    return "\n".join(part for part in (parsed.subject, parsed.body_text) if part)


def text_spans(hits: list[dict[str, Any]], text: str) -> list[tuple[int, int, str, float]]:
    """(start, end, rule, score) of each text evidence whose span really holds the evidence."""
    spans = []
    for hit in hits:
        for evidence in hit.get("evidence") or []:
            span = evidence.get("span")
            if evidence.get("field") != "text" or not isinstance(span, list) or len(span) != 2:
                continue
            start, end = int(span[0]), int(span[1])
            # A span that does not hold its evidence would mark the wrong words: skip it rather than mislead.
            held = text[start:end].casefold() if 0 <= start < end <= len(text) else None
            if held is not None and held == str(evidence["text"]).casefold():
                spans.append((start, end, str(hit["rule"]), float(hit.get("score") or 0)))
    return spans


def segments(text: str, hits: list[dict[str, Any]]) -> list[Segment]:
    """The text cut at every evidence boundary; each piece lists the rules that cover it."""
    text = text[:MAX_DISPLAY_CHARS]
    spans = text_spans(hits, text)
    cuts = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    pieces = []
    for start, end in itertools.pairwise(cuts):
        covering = [(rule, score) for s, e, rule, score in spans if s <= start and end <= e]
        rules = tuple(dict.fromkeys(rule for rule, _ in covering))
        best = dict(covering)
        pieces.append(Segment(text[start:end], rules, sum(best.values())))
    return pieces


class TextCache:
    """Message texts by report id: a stored report never changes, and the queue refreshes often."""

    def __init__(self, analyzer: Analyzer, max_entries: int = 5000) -> None:
        self.analyzer = analyzer
        self.max_entries = max_entries
        self._texts: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def text_of(self, report: Report) -> str | None:
        """The report's text, parsed once per process."""
        with self._lock:
            if report.id in self._texts:
                return self._texts[report.id]
        text = message_text(report, self.analyzer)
        with self._lock:
            if len(self._texts) >= self.max_entries:
                self._texts.pop(next(iter(self._texts)))
            self._texts[report.id] = text
        return text
