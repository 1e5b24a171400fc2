from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service.parsing.operator_facts import OperatorFacts, OperatorFactsError

FILES = Path(__file__).parents[2] / "files" / "text"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FILES / name).read_text(encoding="utf-8"))
    return data


def test_full_facts_become_rule_fields() -> None:
    facts = OperatorFacts.from_dict(load("operator_facts_full.json"), now=NOW)
    assert facts.field_values() == {
        "sender.subscription": "prepaid",
        "sender.prepaid": True,
        "sender.identity_verified": False,
        "sender.age_days": 5,
        "sender.device_change_days": 0,
        "sender.sims_on_device": 16,
        "sender.sent_24h": 1200,
        "sender.recipients_24h": 950,
        "sender.smsc_record": False,
        "sender.cell_id": "28817",
    }
    assert facts.cell is not None
    assert facts.cell.mnc == "4"
    assert facts.to_dict()["activated_at"] == "2026-11-20T00:00:00+00:00"
    json.dumps(facts.to_dict())


def test_unknown_facts_stay_none() -> None:
    facts = OperatorFacts.from_dict(load("operator_facts_partial.json"), now=NOW)
    values = facts.field_values()
    assert values["sender.prepaid"] is False
    assert values["sender.sent_24h"] == 3
    unknown = {key for key, value in values.items() if value is None}
    assert unknown == {
        "sender.identity_verified",
        "sender.age_days",
        "sender.device_change_days",
        "sender.sims_on_device",
        "sender.recipients_24h",
        "sender.smsc_record",
        "sender.cell_id",
    }


@pytest.mark.parametrize("data", [None, {}])
def test_no_facts_at_all(data: dict[str, Any] | None) -> None:
    values = OperatorFacts.from_dict(data, now=NOW).field_values()
    assert all(value is None for value in values.values())


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"subscription": "pay-as-you-go"}, "operator_facts.subscription"),
        ({"identity_verified": "yes"}, "operator_facts.identity_verified"),
        ({"smsc_record": 0}, "operator_facts.smsc_record"),
        ({"sent_24h": "12"}, "operator_facts.sent_24h"),
        ({"sent_24h": True}, "operator_facts.sent_24h"),
        ({"sims_on_device": -1}, "operator_facts.sims_on_device"),
        ({"activated_at": "last week"}, "operator_facts.activated_at"),
        ({"activated_at": "2027-06-01"}, "operator_facts.activated_at"),
        ({"last_device_change": 20261120}, "operator_facts.last_device_change"),
        ({"cell": ["452", "04"]}, "operator_facts.cell"),
        ({"cell": {"lat": 123.0}}, "operator_facts.cell.lat"),
        ({"cell": {"id": {"nested": 1}}}, "operator_facts.cell.id"),
        ({"imsi": "452040000000000"}, "operator_facts.imsi"),
    ],
)
def test_invalid_facts_name_the_field(data: dict[str, Any], path: str) -> None:
    with pytest.raises(OperatorFactsError) as raised:
        OperatorFacts.from_dict(data, now=NOW)
    assert raised.value.path == path
    assert str(raised.value).startswith(path + ":")


def test_not_an_object() -> None:
    with pytest.raises(OperatorFactsError, match="expected an object"):
        OperatorFacts.from_dict([], now=NOW)  # type: ignore[arg-type]


def test_naive_times_are_utc_and_small_skew_is_zero_days() -> None:
    facts = OperatorFacts.from_dict({"activated_at": "2026-11-25T18:00:00"}, now=NOW)
    assert facts.activated_at == datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    assert facts.age_days == 0


def test_age_uses_current_time_by_default() -> None:
    facts = OperatorFacts.from_dict({"activated_at": "2000-01-01"})
    assert facts.age_days is not None
    assert facts.age_days > 9000
