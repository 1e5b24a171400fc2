"""The view of an SMS: its sender, what the operator knows of that sender, and its text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.analysis.inputs import SmsInput
from service.analysis.view import MessageView, prefixed
from service.parsing.operator_facts import OperatorFacts
from service.parsing.sender import classify_sender


def sms_view(sms: SmsInput, *, home_region: str, now: datetime) -> MessageView:
    """Classify the sender and read the operator facts; the text is kept as sent."""
    sender = classify_sender(sms.sender, default_region=home_region)
    facts = OperatorFacts.from_dict(sms.operator_facts, now=now)
    sender_json: dict[str, Any] = {**sender.to_dict(), "facts": facts.to_dict()}
    phone_json = sender_json["phone"]  # the number's fields, read once for the JSON and the rule fields
    fields: dict[str, Any] = {
        "text": sms.text,
        "body": sms.text,
        "sender.raw": sms.sender,
        "sender.kind": sender.kind,
        "sender.email": sender.email,
        **facts.field_values(),
    }
    if phone_json is not None:
        fields.update(prefixed("sender.phone", phone_json))
    return MessageView(text=sms.text, sender=sender_json, fields=fields)
