"""What the pipeline analyses: one reported message, independent of how it arrived (API, CLI, worker)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Channel = Literal["sms", "email"]


@dataclass(frozen=True, slots=True)
class SmsInput:
    sender: str
    text: str
    received_at: str | None = None
    operator_facts: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ReportInput:
    """One report: an SMS or the raw bytes of an email, with who forwarded it."""

    channel: Channel
    sms: SmsInput | None = None
    email_raw: bytes | None = None
    reporter_msisdn: str | None = None

    @classmethod
    def for_sms(cls, sms: SmsInput, *, reporter_msisdn: str | None = None) -> ReportInput:
        return cls(channel="sms", sms=sms, reporter_msisdn=reporter_msisdn)

    @classmethod
    def for_email(cls, raw: bytes, *, reporter_msisdn: str | None = None) -> ReportInput:
        return cls(channel="email", email_raw=raw, reporter_msisdn=reporter_msisdn)
