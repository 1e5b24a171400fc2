"""Tolerant charset decoding and RFC 2047 encoded words.

Real phishing carries bogus charset labels (`[charse<!doctype html>`), split multi-byte characters
across encoded words and broken base64. None of that may raise: we decode what we can, fall back to
UTF-8 with replacement, and record a defect.
"""

from __future__ import annotations

import binascii
import codecs
from functools import lru_cache

import re2

# Labels mail clients write that Python does not know, or knows as a narrower set.
_ALIASES = {
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-sjis": "shift_jis",
    "windows-874": "cp874",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
}
_ENCODED_WORD = re2.compile(rb"=\?([A-Za-z0-9*_.:+-]{1,60})\?([BbQq])\?([^?\s]*)\?=")


@lru_cache(maxsize=256)
def codec_for(label: str) -> str | None:
    """Return a Python text codec name for a MIME charset label, or None if unknown."""
    name = label.strip().strip("\"'").lower().split("*", 1)[0]
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None  # rot13, base64, zlib...: not charsets
    return info.name


def decode_text(data: bytes, label: str | None, defects: list[str]) -> str:
    """Decode bytes in the declared charset; unknown charsets fall back to UTF-8 with a defect."""
    codec = codec_for(label) if label else "utf-8"
    if codec is None:
        defects.append(f"unknown charset {label[:40]!r}" if label else "unknown charset")
        codec = "utf-8"
    try:
        return data.decode(codec, "replace")
    except Exception:  # exotic codecs may raise anything; the input is attacker-controlled
        defects.append(f"undecodable text in charset {codec}")
        return data.decode("utf-8", "replace")


def header_text(value: bytes) -> str:
    """Header bytes as text: UTF-8 when valid (RFC 6532), else Windows-1252."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("cp1252", "replace")


def decode_b(payload: bytes, defects: list[str]) -> bytes:
    """Base64 that tolerates missing padding and stray characters."""
    try:
        return binascii.a2b_base64(payload)
    except (binascii.Error, ValueError):
        clean = payload.translate(None, _NOT_B64)  # C speed: attachments can be megabytes
        clean = clean[: len(clean) - len(clean) % 4]
        defects.append("broken base64")
        try:
            return binascii.a2b_base64(clean)
        except (binascii.Error, ValueError):
            return b""


_B64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_NOT_B64 = bytes(c for c in range(256) if c not in _B64_ALPHABET)


def decode_encoded_words(value: bytes, max_words: int, defects: list[str]) -> str:
    """Decode RFC 2047 words; adjacent words of one charset are joined before decoding (bug 7249)."""
    if b"=?" not in value:
        return header_text(value)
    sections: list[tuple[str | None, bytes]] = []
    pos = 0
    for count, found in enumerate(_ENCODED_WORD.finditer(value)):
        if count >= max_words:
            defects.append(f"more than {max_words} encoded words; the rest left encoded")
            break
        gap = value[pos : found.start()]
        if gap and not (gap.isspace() and sections and sections[-1][0] is not None):
            sections.append((None, gap))
        charset, kind, text = found.group(1), found.group(2), found.group(3)
        raw = decode_b(text, defects) if kind in b"Bb" else binascii.a2b_qp(text, header=True)
        label = charset.decode("ascii").lower()
        if sections and sections[-1][0] == label:
            sections[-1] = (label, sections[-1][1] + raw)
        else:
            sections.append((label, raw))
        pos = found.end()
    sections.append((None, value[pos:]))
    return "".join(
        header_text(data) if label is None else decode_text(data, label, defects) for label, data in sections
    )
