"""Entities found in any text, each with its exact span in the original text.

Phone numbers (E.164; "0961.234.567", "0961 234 567", old 11-digit forms), URLs (with or without a
scheme; shorteners flagged), e-mail addresses, bank accounts (a number next to a bank name or "STK"),
Zalo and Telegram handles, and crypto wallets (BTC, ETH/BSC, TRON, checked where a checksum exists).
A number that is a bank account is not also reported as a phone, so a 10–14 digit account number
stays an account. Work is bounded: only the first MAX_TEXT_CHARS are read and each kind keeps at
most MAX_ITEMS items. Never raises on any str.

to_dict(): {"phones": [{value: E.164, span, kind: number type or "legacy"}], "urls": [{value, span,
host, shortener}], "emails": [{value, span, kind}], "bank_accounts": [{number, span, bank or null}],
"handles": [{platform: "zalo"|"telegram", handle, span}], "crypto_wallets": [{value, span, kind:
"bitcoin"|"ethereum"|"tron"}], "truncated": bool}; every span is [start, end) in the original text.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from typing import Final

from service.parsing.data.entity_tables import BANKS, FILLER_WORDS, SHORTENERS, TLDS, WEAK_TLDS
from service.parsing.phones import parse_phone
from service.parsing.records import record_dict
from service.parsing.text.fastre import FastPattern
from service.parsing.text.triggers import StageTriggers

__all__ = [
    "MAX_ITEMS",
    "MAX_TEXT_CHARS",
    "BankAccount",
    "Entities",
    "Found",
    "Handle",
    "Url",
    "extract_entities",
]

MAX_TEXT_CHARS: Final = 100_000
MAX_ITEMS: Final = 50
Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Found:
    """A phone number (value in E.164), an e-mail address or a wallet, and where it is."""

    value: str
    span: Span
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Url:
    """A URL as written, its lowercase host, and whether the host is a link shortener."""

    value: str
    span: Span
    host: str
    shortener: bool


@dataclass(frozen=True, slots=True)
class BankAccount:
    """An account number (digits only) and the bank named next to it, if any."""

    number: str
    span: Span
    bank: str | None


@dataclass(frozen=True, slots=True)
class Handle:
    """A Zalo or Telegram contact."""

    platform: str
    handle: str
    span: Span


@dataclass(frozen=True, slots=True)
class Entities:
    """Everything found in one text."""

    phones: list[Found] = field(default_factory=list)
    urls: list[Url] = field(default_factory=list)
    emails: list[Found] = field(default_factory=list)
    bank_accounts: list[BankAccount] = field(default_factory=list)
    handles: list[Handle] = field(default_factory=list)
    crypto_wallets: list[Found] = field(default_factory=list)
    truncated: bool = False

    def to_dict(self) -> dict[str, object]:
        """JSON-ready lists (spans as [start, end])."""
        return record_dict(self)


_URL: Final = FastPattern(
    r"(?i)(?:(?:https?|hxxps?)://|www\.)[^\s<>\"'{}|\\^`\[\]]+"
    r"|\b[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?)*"
    rf"\.(?:{TLDS})(?::\d{{1,5}})?(?:[/?#][^\s<>\"'{{}}|\\^`\[\]]*)?"
)
_EMAIL: Final = FastPattern(r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9\-]*\.)+[A-Za-z]{2,24}")
# The patterns run on an ASCII shadow of the text (diacritics dropped), where RE2's \b is right.
# Numbers, then bank words, each in one pattern without groups (that spares RE2 its second, submatch
# pass). Bank words matter only next to a number, and each match costs an RE2 call (~2 µs): "nh" ends
# a Vietnamese syllable in nearly every sentence ("tránh" is "tr?nh" in the shadow), so they are looked
# for only when the text has a number.
_NUMBERS: Final = FastPattern(r"(?i)(?:\+|\b)\d(?:[ .\-]?\(?\d\)?){5,18}\b")
_BANK_WORDS: Final = FastPattern(
    r"(?i)\b(?:stk|s[o?]\s*tk|s[o?]\s+t[a?]i\s+kho[a?]n|t[a?]i\s+kho[a?]n|tk|acc(?:ount)?(?:\s+(?:no|number))?|"
    r"ng[a?]n\s+h[a?]ng|nh|bank|"
    + "|".join(sorted((k.replace(" ", r"\s?") for k in BANKS), key=len, reverse=True))
    + r")\b"
)
# A bare word after "tele" is too often Vietnamese ("tele nhanh"): a ":" or "@" must introduce it.
_TELEGRAM: Final = FastPattern(
    r"(?i)\b(?:t|telegram)\.me/([A-Za-z0-9_]{4,32})"
    r"|\b(?:telegram|tele|tg)\s*(?::\s*@?|@)([A-Za-z][A-Za-z0-9_]{4,31})"
)
_ZALO: Final = FastPattern(
    r"(?i)\bzalo\.me/([A-Za-z0-9_.]{3,40})|zalo\s*[:\-]?\s*((?:\+?84|0)[\d .]{8,14}\d)"
)
_WALLET: Final = FastPattern(
    r"\b(?:0x[a-fA-F0-9]{40}|bc1[ac-hj-np-z02-9]{11,71}|T[1-9A-HJ-NP-Za-km-z]{33}|[13][1-9A-HJ-NP-Za-km-z]{25,34})\b"
)
# One RE2 set pass over the shadow tells which of the patterns above occur at all: a pattern absent from
# the text finds nothing, and most texts hold no URL, wallet or handle, so their own searches (one RE2
# pass each) are skipped.
_URLS: Final = "urls"
_EMAILS: Final = "emails"
_NUMBERS_KIND: Final = "numbers"
_TELEGRAM_KIND: Final = "telegram"
_ZALO_KIND: Final = "zalo"
_WALLETS: Final = "wallets"
_KINDS: Final = StageTriggers(
    {
        _URLS: _URL.pattern,
        _EMAILS: _EMAIL.pattern,
        _NUMBERS_KIND: _NUMBERS.pattern,
        _TELEGRAM_KIND: _TELEGRAM.pattern,
        _ZALO_KIND: _ZALO.pattern,
        _WALLETS: _WALLET.pattern,
    }
)
TLD_SET: Final = frozenset(TLDS.split("|"))
_NUMBER_START: Final = frozenset(b"+0123456789")
_BANKS_BY_BYTES: Final = {name.encode(): bank for name, bank in BANKS.items()}
_BASE58: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ACCOUNT_REACH: Final = 30
_LETTERS_ONLY: Final = {c: " " for c in range(128) if not chr(c).isalpha()}
_PHONE_START: Final = ("0", "+", "84", "1800", "1900")


def extract_entities(text: str, *, default_region: str = "VN") -> Entities:
    """Find phones, URLs, e-mails, bank accounts, handles and wallets, with spans into `text`."""
    truncated = len(text) > MAX_TEXT_CHARS
    text = text[:MAX_TEXT_CHARS]
    shadow = _ascii_shadow(text)
    present = _KINDS.present(shadow)
    emails = _emails(shadow, text) if _EMAILS in present and "@" in text else []
    # A number has a digit (RE2's \d is ASCII, like the shadow's digits).
    numbers, words = _numbers_and_bank_words(shadow, text) if _NUMBERS_KIND in present else ([], [])
    accounts = _bank_accounts(text, numbers, words) if words else []
    taken = [a.span for a in accounts]
    return Entities(
        phones=_phones(text, numbers, default_region, taken),
        urls=_urls(shadow, text, [e.span for e in emails]) if _URLS in present and "." in text else [],
        emails=emails,
        bank_accounts=accounts,
        handles=_handles(shadow, text, default_region, present),
        crypto_wallets=_wallets(shadow, text) if _WALLETS in present and len(text) >= 26 else [],
        truncated=truncated,
    )


def _has_digit(text: str) -> bool:
    return any(c in text for c in "0123456789")


def _alone(text: str, start: int, end: int) -> bool:
    """No letter or digit touches the span on either side (RE2's \\b is ASCII-only)."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not before.isalnum() and not after.isalnum()


class _Hit:
    """A match found on the ASCII shadow, read back from the original text (same offsets)."""

    __slots__ = ("_spans", "_text")

    def __init__(self, spans: list[tuple[int, int]], text: str) -> None:
        self._spans = spans
        self._text = text

    def span(self, group: int = 0) -> Span:
        return self._spans[group]

    def start(self) -> int:
        return self._spans[0][0]

    def end(self) -> int:
        return self._spans[0][1]

    def group(self, group: int = 0) -> str:
        start, end = self._spans[group]
        return self._text[start:end] if start >= 0 else ""


def _matches(pattern: FastPattern, shadow: bytes, text: str) -> list[_Hit]:
    """At most MAX_ITEMS * 4 matches: candidates are filtered afterwards."""
    return [_Hit(spans, text) for spans in pattern.find_all(shadow, MAX_ITEMS * 4)]


class _Unaccent(dict[int, str]):
    """Translation to one ASCII character per character: diacritics dropped, case kept, others "?"."""

    def __missing__(self, key: int) -> str:
        base = "".join(c for c in unicodedata.normalize("NFKD", chr(key)) if not unicodedata.combining(c))
        base = {"đ": "d", "Đ": "D"}.get(base, base)
        value = base if len(base) == 1 and base.isascii() else "?"
        if len(self) < 4096:  # bounded: hostile text cannot grow it without limit
            self[key] = value
        return value


_UNACCENT: Final = _Unaccent({code: chr(code) for code in range(0x80)})


def _ascii_shadow(text: str) -> bytes:
    """The text as ASCII bytes with the same offsets ("tài" is "t?i"), for RE2 without offset mapping."""
    return text.encode("ascii", "replace")


Word = tuple[int, int, str | None]
"""A bank word's span and the bank it names (None for "STK", "tài khoản", "ngân hàng"...)."""


def _number_and_word_matches(shadow: bytes) -> list[list[Span]]:
    """The first MAX_ITEMS * 4 numbers and bank words, left to right; no words when there is no number.

    A number holds only digits and separators and a bank word only letters and spaces, so the two never
    overlap, and two scans merged give what one scan for both would.
    """
    limit = MAX_ITEMS * 4
    numbers = _NUMBERS.find_all(shadow, limit)
    if not numbers:
        return []
    return sorted(numbers + _BANK_WORDS.find_all(shadow, limit))[:limit]


def _numbers_and_bank_words(shadow: bytes, text: str) -> tuple[list[Span], list[Word]]:
    numbers: list[Span] = []
    words: list[Word] = []
    for spans in _number_and_word_matches(shadow):
        start, end = spans[0]
        if not _alone(text, start, end):
            continue
        if shadow[start] in _NUMBER_START:
            numbers.append((start, end))
        else:
            words.append((start, end, _BANKS_BY_BYTES.get(b" ".join(shadow[start:end].lower().split()))))
    return numbers, words


def _phones(text: str, numbers: list[Span], region: str, taken: list[Span]) -> list[Found]:
    """Valid numbers that are not bank accounts, deduplicated by E.164."""
    phones: list[Found] = []
    seen: set[str] = set()
    for start, end in numbers:
        if _overlaps((start, end), taken):
            continue
        found = _phone_at(text, start, end, region)
        if found is not None and found.value not in seen:
            seen.add(found.value)
            phones.append(found)
            if len(phones) >= MAX_ITEMS:
                break
    return phones


def _phone_at(text: str, start: int, end: int, region: str) -> Found | None:
    """The number written at [start, end), dropping trailing groups ("0961 234 567 2 lần") if needed."""
    raw = text[start:end]
    for _ in range(3):
        digits = sum(1 for c in raw if c.isdigit())
        dialable = raw if raw[0] == "+" else "".join(c for c in raw if c.isdigit())
        if digits < 8 or not dialable.startswith(_PHONE_START):
            return None
        if digits <= 17:
            info = parse_phone(raw, default_region=region)
            if info.valid and info.e164 and info.type != "shortcode":
                kind = "legacy" if info.legacy_format else info.type
                return Found(info.e164, (start, start + len(raw)), kind)
        if " " not in raw:
            return None
        raw = raw.rsplit(" ", 1)[0]
    return None


def _overlaps(span: Span, others: list[Span]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


def _urls(shadow: bytes, text: str, emails: list[Span]) -> list[Url]:
    """URLs and bare domains outside e-mail addresses, trailing punctuation trimmed."""
    urls: list[Url] = []
    for match in _matches(_URL, shadow, text):
        start, end = match.span()
        value = _ascii_prefix(match.group(0)).rstrip(".,;:!?)]}'\"")
        end = start + len(value)
        if _overlaps((start, end), emails) or (
            start > 0 and (text[start - 1].isalnum() or text[start - 1] in "@.")
        ):
            continue
        host = _host(value)
        bare = host.removeprefix("www.")
        if not _looks_like_a_link(value, host, bare):
            continue
        urls.append(Url(value, (start, end), host, bare in SHORTENERS))
        if len(urls) >= MAX_ITEMS:
            break
    return urls


def _host(url: str) -> str:
    host = url.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return host.rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".")


def _ascii_prefix(value: str) -> str:
    """The URL up to its first non-ASCII character: in the shadow that character was a "?", which the
    pattern read as the start of a query ("quan.không" is not "quan.kh" with a query)."""
    if value.isascii():
        return value
    return value[: next(index for index, char in enumerate(value) if not char.isascii())]


def _looks_like_a_link(value: str, host: str, bare: str) -> bool:
    """A bare "word.th" is usually Vietnamese missing a space ("goi.th", "coi.co"): a two-letter TLD that
    is also a word needs a scheme, "www.", a path, or a known shortener."""
    if "://" in value or host.startswith("www.") or bare in SHORTENERS:
        return True
    tld = host.rsplit(".", 1)[-1]
    if "." not in host or tld not in TLD_SET:
        return False
    return tld not in WEAK_TLDS or len(value) > len(host) + 1


def _emails(shadow: bytes, text: str) -> list[Found]:
    found = [Found(m.group(0), m.span(), "email") for m in _matches(_EMAIL, shadow, text)]
    return found[:MAX_ITEMS]


def _bank_accounts(text: str, numbers: list[Span], words: list[Word]) -> list[BankAccount]:
    """Numbers right after a bank word or "STK", or right before a bank name."""
    accounts: list[BankAccount] = []
    for start, end in numbers:
        digits = "".join(c for c in text[start:end] if c.isdigit())
        if not 6 <= len(digits) <= 19 or text[start] == "+":
            continue
        before = [w for w in words if w[1] <= start and _gap_is_clear(text, w[1], start, _ACCOUNT_REACH)]
        after = [w for w in words if w[0] >= end and w[2] and _gap_is_clear(text, end, w[0], 20)]
        if before or after:
            accounts.append(BankAccount(digits, (start, end), _bank_near(text, words, start, after)))
            if len(accounts) >= MAX_ITEMS:
                break
    return accounts


def _gap_is_clear(text: str, start: int, end: int, reach: int) -> bool:
    """Close enough, on the same line, with only punctuation and filler words ("số", "là") between."""
    if end - start > reach:
        return False
    gap = text[start:end]
    if "\n" in gap or _has_digit(gap):
        return False
    words = gap.translate(_UNACCENT).lower().translate(_LETTERS_ONLY).split()
    return all(word in FILLER_WORDS for word in words)


def _bank_near(text: str, words: list[Word], start: int, after: list[Word]) -> str | None:
    """The bank named just before the number (within 60 characters), else just after it."""
    named = [w for w in words if w[2] and w[1] <= start and _gap_is_clear(text, w[1], start, 60)]
    if named:
        return named[-1][2]
    return after[0][2] if after else None


def _handles(shadow: bytes, text: str, region: str, present: frozenset[str]) -> list[Handle]:
    if _TELEGRAM_KIND not in present and _ZALO_KIND not in present:
        return []
    handles: list[Handle] = []
    lowered = shadow.lower()
    if b"t.me" in lowered or b"tele" in lowered or b"tg" in lowered:
        for match in _matches(_TELEGRAM, shadow, text):
            if match.start() == 0 or not text[match.start() - 1].isalnum():
                handles.append(Handle("telegram", "@" + (match.group(1) or match.group(2)), match.span()))
    if b"zalo" in lowered:
        for match in _matches(_ZALO, shadow, text):
            contact = (match.group(1) or match.group(2)).rstrip(".")
            phone = parse_phone(contact, default_region=region) if contact[-1].isdigit() else None
            value = phone.e164 if phone and phone.valid and phone.e164 else contact
            handles.append(Handle("zalo", value, match.span()))
    return handles[:MAX_ITEMS]


def _wallets(shadow: bytes, text: str) -> list[Found]:
    wallets: list[Found] = []
    for match in _matches(_WALLET, shadow, text):
        address = match.group(0)
        if not _alone(text, match.start(), match.end()):
            continue
        chain = _chain(address)
        if chain is not None:
            wallets.append(Found(address, match.span(), chain))
    return wallets[:MAX_ITEMS]


def _chain(address: str) -> str | None:
    """The chain of a wallet address, or None when its checksum fails."""
    if address.startswith("0x"):
        return "ethereum"
    if address.startswith("bc1"):
        return "bitcoin"
    if not _base58check(address):
        return None
    return "tron" if address.startswith("T") else "bitcoin"


def _base58check(address: str) -> bool:
    """Base58Check: the last 4 bytes are the double SHA-256 of the rest."""
    number = 0
    for char in address:
        number = number * 58 + _BASE58.index(char)
    pad = len(address) - len(address.lstrip("1"))
    raw = b"\x00" * pad + number.to_bytes((number.bit_length() + 7) // 8, "big")
    if len(raw) < 5:
        return False
    payload, checksum = raw[:-4], raw[-4:]
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == checksum
