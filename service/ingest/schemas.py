"""The report body of `POST /v1/reports`: an SMS or an email, told apart by `channel`."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.validation import Storable, StorableInside

Reference = Annotated[
    str,
    Storable,
    Field(
        min_length=1,
        max_length=200,
        description="The reporter's own id for this report; "
        "a retry with the same reference returns the first result.",
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ReporterInfo(Strict):
    msisdn: Annotated[str, Storable] | None = Field(
        default=None, max_length=32, description="The victim who forwarded the message."
    )


class SmsBody(Strict):
    sender: Annotated[str, Storable] = Field(
        min_length=1,
        max_length=250,
        description="Sender as shown to the victim: a number, short code or alphanumeric name.",
    )
    text: Annotated[str, Storable] = Field(max_length=20_000)
    received_at: datetime | None = None
    operator_facts: Annotated[dict[str, Any], StorableInside] | None = Field(
        default=None,
        description="What the operator knows of the sending subscriber. A missing fact means unknown.",
    )


class EmailBody(Strict):
    raw: str | None = Field(default=None, description="The whole RFC 822 message, headers included.")
    raw_base64: str | None = Field(default=None, description="The same, base64-encoded, for 8-bit messages.")

    @model_validator(mode="after")
    def _exactly_one(self) -> EmailBody:
        if (self.raw is None) == (self.raw_base64 is None):
            raise ValueError("give exactly one of email.raw or email.raw_base64")
        return self

    def raw_bytes(self) -> bytes:
        """The message bytes; `raw` text is taken as UTF-8 (surrogates escaped back to bytes)."""
        if self.raw is not None:
            return self.raw.encode("utf-8", "surrogateescape")
        try:
            return base64.b64decode(self.raw_base64 or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("email.raw_base64 is not valid base64") from exc


class SmsReportCreate(Strict):
    channel: Literal["sms"]
    reference: Reference | None = None
    reporter: ReporterInfo | None = None
    sms: SmsBody


class EmailReportCreate(Strict):
    channel: Literal["email"]
    reference: Reference | None = None
    reporter: ReporterInfo | None = None
    email: EmailBody


ReportCreate = Annotated[SmsReportCreate | EmailReportCreate, Field(discriminator="channel")]
