from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from service.parsing.sender import SenderParseError, classify_sender

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parents[2] / "files" / "text" / "senders.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=[case["raw"] for case in CASES])
def test_sender_kind(case: dict[str, Any]) -> None:
    sender = classify_sender(case["raw"])
    assert sender.kind == case["kind"]
    assert sender.raw == case["raw"]
    if "e164" in case:
        assert sender.phone is not None
        assert sender.phone.e164 == case["e164"]
    if "email" in case:
        assert sender.email == case["email"]
    if case["kind"] in {"alphanumeric", "email"}:
        assert sender.phone is None


def test_shortcode_keeps_its_phone_info() -> None:
    sender = classify_sender("5656")
    assert sender.phone is not None
    assert sender.phone.type == "shortcode"
    assert sender.to_dict()["phone"] == sender.phone.to_dict()


def test_legacy_sender_is_flagged() -> None:
    sender = classify_sender("01662345678")
    assert sender.phone is not None
    assert sender.phone.legacy_format
    assert sender.to_dict()["kind"] == "msisdn"


@pytest.mark.parametrize("raw", ["", "   ", "x" * 251])
def test_refused_senders(raw: str) -> None:
    with pytest.raises(SenderParseError):
        classify_sender(raw)
