from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
import yaml
from phonenumbers import carrier

from service.parsing import phones
from service.parsing.phones import (
    LEGACY_PREFIXES,
    MAX_INPUT_CHARS,
    PORTABILITY_NOTE,
    SenderParseError,
    parse_phone,
)

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parents[2] / "files" / "text" / "phones.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=[case["raw"] for case in CASES])
def test_phone_fields(case: dict[str, Any]) -> None:
    info = parse_phone(case["raw"]).to_dict()
    for key, expected in case.items():
        assert info[key] == expected, key


def test_vietnamese_carrier_is_allocated_and_may_be_ported() -> None:
    info = parse_phone("0961234567")
    assert info.carrier == "Viettel"
    assert info.carrier_note == PORTABILITY_NOTE
    assert "portability since 2018" in PORTABILITY_NOTE
    assert "may differ" in PORTABILITY_NOTE


def test_087_block_names_the_mvno() -> None:
    info = parse_phone("0871234567")
    assert info.carrier == "Vinaphone"
    assert info.carrier_note is not None
    assert "Itelecom" in info.carrier_note


def test_foreign_carrier_note_is_generic() -> None:
    info = parse_phone("+8613800138000")
    assert info.carrier_note is not None
    assert "ported" in info.carrier_note
    assert "Vietnam" not in info.carrier_note


@pytest.mark.parametrize(("old", "new"), sorted(LEGACY_PREFIXES.items()))
def test_every_legacy_prefix_maps_to_a_valid_current_number(old: str, new: str) -> None:
    info = parse_phone(old + "2345678")
    assert info.legacy_format
    assert info.e164 == "+84" + new[1:] + "2345678"
    assert info.valid


def test_ten_digit_number_with_legacy_looking_prefix_is_not_legacy() -> None:
    assert not parse_phone("0162345678").legacy_format


def test_overlong_input_is_refused_before_parsing() -> None:
    with pytest.raises(SenderParseError, match="longer than"):
        parse_phone("0" * (MAX_INPUT_CHARS + 1))
    assert parse_phone("9" * MAX_INPUT_CHARS).valid is False


def test_hostile_input_never_raises() -> None:
    for raw in ["+", "++84", "00", "(((", "+84" + "9" * 30, "０９６１２３４５６７", "\x00", "+999 123"]:
        assert parse_phone(raw).type in {"unknown", "shortcode", "mobile"}


def test_prefix_cache_agrees_with_phonenumbers() -> None:
    rng = random.Random(84)
    for _ in range(3000):
        length = rng.choice([8, 9, 10, 11])
        national = "0" + str(rng.randint(10 ** (length - 2), 10 ** (length - 1) - 1))
        ours = parse_phone(national)
        if ours.legacy_format:
            continue  # mapped to the 2018 form on purpose
        number = phonenumbers.parse(national, "VN")
        assert ours.valid == phonenumbers.is_valid_number(number), national
        assert ours.e164 == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        assert ours.type == phones.type_name(phonenumbers.number_type(number)), national
        if ours.valid:
            assert ours.carrier == (carrier.name_for_number(number, "en") or None), national
