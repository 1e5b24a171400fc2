"""The template sketch of a stored report that has none in its analysis (an SMS), computed by triage for its
indicator rows."""

from __future__ import annotations

from service.analysis.template import message_sketch
from service.errors import ProblemError
from service.ingest.requests import stored_input
from service.parsing.email import EmailLimits, EmailParseError


def stored_message_sketch(content_type: str, raw: bytes, *, limits: EmailLimits) -> list[str]:
    """The sketch of the message a report holds, parsed again within the limits ingest applied; none for a
    purged report, whose input is emptied."""
    try:
        return message_sketch(stored_input(content_type, raw), limits=limits)
    except (ProblemError, EmailParseError):
        return []
