"""A sketch of a message's wording, so that near-identical messages (one template, other numbers) link.

The text is folded (case, diacritics, đ → d, digits → #), cut into word 3-grams, and the four smallest 32-bit
hashes of those shingles are kept (a bottom-k sketch). Two messages that share two of their four hashes are
near-duplicates: their shingle sets overlap far more than unrelated messages ever do.

The sketch serves only correlation. Triage computes an SMS's from its stored text (`message_sketch`): at
ingest it was a fifth of an intake process's instructions per 1 KB SMS (callgrind: 410,000 of 1.9 million),
which `POST /v1/reports` waited on for nothing its answer holds. An email's is computed at ingest, beside the
parse that gives its text (service.analysis.pipeline).
"""

from __future__ import annotations

import unicodedata
import zlib

from service.analysis.email_view import email_text
from service.analysis.inputs import ReportInput
from service.parsing.email import EmailLimits, parse_email
from service.parsing.text.latin_bases import vietnamese_bases

SKETCH_SIZE = 4
MIN_WORDS = 6  # shorter texts are too generic to tie reports together
MAX_CHARS = 4000
_BYTE_TABLE = bytes(
    ord("#") if chr(code).isdigit() else ord(chr(code).lower()) if chr(code).isalpha() else ord(" ")
    for code in range(256)
)


def template_sketch(text: str) -> list[str]:
    """The bottom-k shingle hashes of `text`, as hex strings; empty for a short text."""
    folded = _fold(text[:MAX_CHARS])
    words = folded.split()
    # Every number reads as one "#", however long: templates vary dates, amounts and phone numbers. Without
    # "##" no word can be a longer number, and the pass over the words is skipped.
    if b"##" in folded:
        words = [b"#" if not word.strip(b"#") else word for word in words]
    if len(words) < MIN_WORDS:
        return []
    # Joining and hashing the 3-word shingles with map() keeps the whole loop in C.
    shingles = set(map(zlib.crc32, map(b" ".join, zip(words, words[1:], words[2:], strict=False))))
    return [f"{value:08x}" for value in sorted(shingles)[:SKETCH_SIZE]]


def message_sketch(report: ReportInput, *, limits: EmailLimits) -> list[str]:
    """The sketch of the text the rules read: the SMS as sent, or an email's subject and body (parsed again,
    within the same limits as at ingest); raises EmailParseError for bytes that are not an email."""
    if report.sms is not None:
        return template_sketch(report.sms.text)
    assert report.email_raw is not None
    return template_sketch(email_text(parse_email(report.email_raw, limits=limits)))


def _fold(text: str) -> bytes:
    # NFKD splits letters from their diacritics and the ASCII encode drops the marks (and any non-Latin
    # script, which then yields no sketch); one byte table then lower-cases, turns digits into # and
    # punctuation into spaces. Everything runs in C. Plain Vietnamese, where NFKD is NFD, takes a codec
    # table instead, several times cheaper than decomposing.
    ascii_bytes = text.encode("ascii") if text.isascii() else vietnamese_bases(text)
    if ascii_bytes is None:
        ascii_bytes = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D")).encode(
            "ascii", "ignore"
        )
    return ascii_bytes.translate(_BYTE_TABLE)
