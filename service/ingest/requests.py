"""Turning an HTTP body into a `Submission`: content type, JSON validation, canonical hash."""

from __future__ import annotations

import hashlib

from pydantic import TypeAdapter, ValidationError

from service.analysis.inputs import ReportInput, SmsInput
from service.errors import UnprocessableContent, UnsupportedMediaType, validation_errors
from service.ingest.schemas import EmailReportCreate, ReportCreate, SmsReportCreate
from service.ingest.service import Submission

JSON_TYPES = frozenset({"application/json"})
CHANNELS = frozenset({"sms", "email"})
EMAIL_TYPES = frozenset({"message/rfc822"})
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/jsonlines"})
REPORT_ADAPTER: TypeAdapter[SmsReportCreate | EmailReportCreate] = TypeAdapter(ReportCreate)


def media_type(content_type: str | None) -> str:
    """The bare media type, lower-cased, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def submission_from_body(
    body: bytes, *, content_type: str | None, idempotency_key: str | None, reference: str | None = None
) -> Submission:
    """Validate a request body of either accepted media type."""
    kind = media_type(content_type)
    if kind in JSON_TYPES:
        return _from_json(body, idempotency_key=idempotency_key)
    if kind in EMAIL_TYPES:
        return _from_email(body, idempotency_key=idempotency_key, reference=reference)
    raise UnsupportedMediaType(
        f"Content-Type {kind or '(none)'} is not accepted: send application/json (a report) "
        "or message/rfc822 (one raw email)."
    )


def stored_input(content_type: str, raw: bytes) -> ReportInput:
    """What was analysed, rebuilt from the raw input kept with a report (rescoring, the template sketch)."""
    if media_type(content_type) in EMAIL_TYPES:
        return ReportInput.for_email(raw)
    return submission_from_body(raw, content_type=content_type, idempotency_key=None).report


def _from_json(body: bytes, *, idempotency_key: str | None) -> Submission:
    try:
        payload = REPORT_ADAPTER.validate_json(body)
    except ValidationError as exc:
        errors = validation_errors(exc, prefix=("body",), union_tags=CHANNELS)
        if any(error["type"] == "json_invalid" for error in errors):
            raise UnprocessableContent("The body is not valid JSON.", errors=errors) from None
        fields = ", ".join(error["field"] for error in errors[:10])
        raise UnprocessableContent(f"The report did not validate: check {fields}.", errors=errors) from None
    # model_dump_json's own serializer, whose bytes it would decode to a str for us to encode again.
    canonical = payload.__pydantic_serializer__.to_json(payload, exclude_none=True)
    return Submission(
        report=_report_input(payload),
        content_type="application/json",
        raw=body,
        request_hash=hashlib.sha256(canonical).hexdigest(),
        reference=payload.reference,
        idempotency_key=idempotency_key,
    )


def _report_input(payload: SmsReportCreate | EmailReportCreate) -> ReportInput:
    msisdn = payload.reporter.msisdn if payload.reporter else None
    if isinstance(payload, SmsReportCreate):
        sms = payload.sms
        received_at = sms.received_at.isoformat() if sms.received_at else None
        return ReportInput.for_sms(
            SmsInput(sms.sender, sms.text, received_at, sms.operator_facts), reporter_msisdn=msisdn
        )
    try:
        raw = payload.email.raw_bytes()
    except ValueError as exc:
        raise UnprocessableContent(
            str(exc), errors=[{"field": "body.email.raw_base64", "message": str(exc), "type": "value_error"}]
        ) from None
    return ReportInput.for_email(raw, reporter_msisdn=msisdn)


def _from_email(body: bytes, *, idempotency_key: str | None, reference: str | None) -> Submission:
    if not body.strip():
        raise UnprocessableContent("The message/rfc822 body is empty: send the whole raw email.")
    canonical = b"email\0" + body
    return Submission(
        report=ReportInput.for_email(body),
        content_type="message/rfc822",
        raw=body,
        request_hash=hashlib.sha256(canonical).hexdigest(),
        reference=reference,
        idempotency_key=idempotency_key,
    )
