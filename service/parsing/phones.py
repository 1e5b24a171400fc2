"""Phone numbers: E.164, region, type, validity and the *allocated* carrier, with Vietnam's quirks.

- The carrier is the operator the number block was allocated to. Vietnam has had mobile number
  portability since 2018 and phonenumbers' VN data has no portability flag, so `carrier_note` says the
  current operator may differ (1.8 M numbers had moved into Viettel alone by January 2024).
- Old 11-digit numbers from before the 2018 renumbering (0162…, 0120…, 0186…, 0199…) are invalid as
  they stand; they are mapped to their current 10-digit form and flagged `legacy_format`.
- Input over MAX_INPUT_CHARS raises SenderParseError before any parsing; any other input gives a
  PhoneInfo (possibly `valid=False`), never another exception.
- Results are cached: SIM farms send from the same numbers again and again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import phonenumbers
from phonenumbers import PhoneNumberType, carrier, shortnumberinfo
from phonenumbers.phonenumber import PhoneNumber

from service.parsing.records import record_dict

__all__ = ["MAX_INPUT_CHARS", "PhoneInfo", "SenderParseError", "parse_phone"]

MAX_INPUT_CHARS: Final = 250
_MAX_SHORTCODE_DIGITS: Final = 6


class SenderParseError(ValueError):
    """A sender or phone number that is refused before parsing (too long, empty)."""


# The 2018 renumbering: old 4-digit mobile prefix (with the 0) -> new 3-digit prefix.
LEGACY_PREFIXES: Final = {
    "0162": "032", "0163": "033", "0164": "034", "0165": "035", "0166": "036", "0167": "037",
    "0168": "038", "0169": "039",  # Viettel
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",  # MobiFone
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",  # VinaPhone
    "0186": "056", "0188": "058",  # Vietnamobile
    "0199": "059",  # Gmobile
}  # fmt: skip

PORTABILITY_NOTE: Final = (
    "allocated operator of the number block; Vietnam has had mobile number portability since 2018 and "
    "this data has no portability flag, so the current operator may differ"
)
_GENERIC_NOTE: Final = "allocated operator of the number block; the number may have been ported"
_MVNO_NOTES: Final = {
    "8487": "; the 087 block is used by the Itelecom MVNO although it is labelled Vinaphone",
}

_TYPE_NAMES: Final = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}
_MOBILE_TYPES: Final = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
# Dialling separators are removed with str.translate: re2's str API costs ~10 µs a call here.
_DROP_SEPARATORS: Final = str.maketrans("", "", " \t\n\r.-()/\u00a0")
_MAX_DIGITS: Final = 20
# Type and carrier of a Vietnamese number depend only on its first digits and its length (checked
# against phonenumbers in the tests), so they are cached by prefix: numbers in SMS rarely repeat.
_PREFIX_DIGITS: Final = 4  # 1800/1900 and 120x need four; the carrier data three
_PREFIX_FACTS: dict[tuple[str, int], tuple[int, str | None, str]] = {}
_MAX_PREFIXES: Final = 1 << 16


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    """What is known about one phone number; `valid` is None for a short code the data does not list."""

    raw: str
    e164: str | None
    region: str | None
    carrier: str | None
    carrier_note: str | None
    type: str
    valid: bool | None
    legacy_format: bool = False

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields."""
        return record_dict(self)


def parse_phone(raw: str, *, default_region: str = "VN", cached: bool = True) -> PhoneInfo:
    """Parse a phone number or short code (raises SenderParseError over MAX_INPUT_CHARS).

    `cached=False` is for callers that cache what they build from the result (the sender classifier):
    a second cache of the same numbers would only cost a miss more for each new number.
    """
    if len(raw) > MAX_INPUT_CHARS:
        raise SenderParseError(f"phone number longer than {MAX_INPUT_CHARS} characters")
    parse = _parse_cached if cached else _parse
    return parse(raw.strip(), default_region.upper())


def _parse(raw: str, region: str) -> PhoneInfo:
    dialable = raw.translate(_DROP_SEPARATORS)
    if dialable.startswith("00"):
        dialable = "+" + dialable[2:]  # international prefix
    digits = dialable.removeprefix("+")
    if not (digits.isascii() and digits.isdigit() and len(digits) <= _MAX_DIGITS):
        return _slow_parse(raw, region)
    if not dialable.startswith("+") and len(dialable) <= _MAX_SHORTCODE_DIGITS:
        return _shortcode(raw, dialable, region)
    if region == "VN" and dialable.startswith("84") and len(dialable) in {11, 12} and dialable[2] != "0":
        dialable = "+" + dialable  # operators often write MSISDNs as 84xxxxxxxxx
    dialable, legacy = _current_form(dialable, region)
    national = _vietnamese_national(dialable, region)
    if national is None:
        return _slow_parse(raw, region, legacy=legacy)
    # The E.164 form of +84 and a national number without its trunk 0 is just that: SIM farms send from
    # new numbers all the time, and building and formatting a PhoneNumber costs more than the rest.
    return _info(raw, "+84" + national, _vietnamese_facts(national), legacy)


_parse_cached = lru_cache(maxsize=16384)(_parse)


def _current_form(dialable: str, region: str) -> tuple[str, bool]:
    """Map an old 11-digit Vietnamese mobile number to its 2018 form."""
    if dialable.startswith("+84"):
        national = "0" + dialable[3:]
    elif region == "VN" and dialable.startswith("0"):
        national = dialable
    else:
        return dialable, False
    new_prefix = LEGACY_PREFIXES.get(national[:4])
    if new_prefix is None or len(national) != 11:
        return dialable, False
    return "+84" + new_prefix[1:] + national[4:], True


def _vietnamese_national(dialable: str, region: str) -> str | None:
    """The national significant number of +84 and VN national forms (ASCII digits, no leading 0).

    Read directly: phonenumbers.parse costs ~45 µs.
    """
    if dialable.startswith("+84"):
        national = dialable[3:].removeprefix("0")  # "+84 (0) 961…": the trunk 0 is not dialled
    elif region == "VN" and dialable.startswith("0") and not dialable.startswith("00"):
        national = dialable[1:]
    else:
        return None
    if not 7 <= len(national) <= 11 or national.startswith("0"):
        return None
    return national


def _vietnamese_facts(national: str) -> tuple[int, str | None, str]:
    """_number_facts of +84 `national`, from the prefix cache without building the number when it can."""
    cached = _PREFIX_FACTS.get((national[:_PREFIX_DIGITS], len(national)))
    if cached is not None:
        return cached
    return _number_facts(PhoneNumber(country_code=84, national_number=int(national)))


def _slow_parse(raw: str, region: str, *, legacy: bool = False) -> PhoneInfo:
    """Anything that is not a plain Vietnamese number goes through phonenumbers.parse."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return PhoneInfo(raw, None, None, None, None, "unknown", False, legacy)
    return _describe(raw, number, legacy)


def _describe(raw: str, number: PhoneNumber, legacy: bool) -> PhoneInfo:
    """Type, validity, region and allocated carrier of a parsed number."""
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return _info(raw, e164, _number_facts(number), legacy)


def _info(raw: str, e164: str, facts: tuple[int, str | None, str], legacy: bool) -> PhoneInfo:
    """The PhoneInfo of a number given its E.164 form and its type, region and allocated carrier."""
    kind, region, operator = facts
    valid = region is not None and kind != PhoneNumberType.UNKNOWN
    note = _carrier_note(e164, region) if operator else None
    # Positional: a new sender's number is built for nearly every report, and keywords cost more.
    return PhoneInfo(raw, e164, region, operator or None, note, type_name(kind), valid, legacy)


def _number_facts(number: PhoneNumber) -> tuple[int, str | None, str]:
    """Type, region and allocated carrier, cached by prefix for Vietnamese numbers."""
    national = str(number.national_number)
    key = (national[:_PREFIX_DIGITS], len(national))
    if number.country_code == 84 and not number.italian_leading_zero:
        cached = _PREFIX_FACTS.get(key)
        if cached is not None:
            return cached
    kind = phonenumbers.number_type(number)
    region = phonenumbers.region_code_for_number(number)
    valid = region is not None and kind != PhoneNumberType.UNKNOWN
    operator = carrier.name_for_valid_number(number, "en") if valid and kind in _MOBILE_TYPES else ""
    facts = (kind, region, operator)
    if number.country_code == 84 and not number.italian_leading_zero and len(_PREFIX_FACTS) < _MAX_PREFIXES:
        _PREFIX_FACTS[key] = facts
    return facts


def type_name(kind: int) -> str:
    """Our name for a phonenumbers PhoneNumberType."""
    return _TYPE_NAMES.get(kind, "unknown")


def _carrier_note(e164: str, region: str | None) -> str:
    if region != "VN":
        return _GENERIC_NOTE
    return PORTABILITY_NOTE + _MVNO_NOTES.get(e164[1:5], "")


def _shortcode(raw: str, digits: str, region: str) -> PhoneInfo:
    """A short code such as 5656 or 9029: valid only if the short-number data lists it, else unknown."""
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return PhoneInfo(raw, None, region, None, None, "shortcode", False)
    known = shortnumberinfo.is_valid_short_number_for_region(number, region)
    return PhoneInfo(raw, None, region, None, None, "shortcode", True if known else None)
