"""A JSON report's request hash: what tells a retry from a reused reference, stable across releases."""

from __future__ import annotations

import hashlib
import json

from service.ingest.requests import REPORT_ADAPTER, submission_from_body
from tests.conftest import FILES

SMS = (FILES / "reports" / "sms_threat.json").read_bytes()


def request_hash(body: bytes) -> str:
    return submission_from_body(body, content_type="application/json", idempotency_key=None).request_hash


def test_the_hash_is_sha256_of_the_models_own_json_without_nulls() -> None:
    # Reports stored by earlier releases keep this hash: a retry of one must still match it.
    canonical = REPORT_ADAPTER.validate_json(SMS).model_dump_json(exclude_none=True).encode()
    assert request_hash(SMS) == hashlib.sha256(canonical).hexdigest()


def test_key_order_spacing_and_null_fields_do_not_change_the_hash() -> None:
    report = json.loads(SMS)
    reordered = dict(reversed(list(report.items())))
    reordered["reporter"] = None
    report.pop("reporter", None)
    assert request_hash(json.dumps(reordered, indent=2).encode()) == request_hash(json.dumps(report).encode())


def test_another_text_is_another_hash() -> None:
    report = json.loads(SMS)
    report["sms"]["text"] += "!"
    assert request_hash(json.dumps(report).encode()) != request_hash(SMS)
