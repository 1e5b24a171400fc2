"""Limits on email parsing, the parse error, and the anchors the defaults come from.

SpamAssassin caps MIME depth at 20, parts at 1,000 and scans 50 KB of text per part; rspamd caps a
message at 50 MiB. Our API takes reports pasted or uploaded by victims, so 10 MiB is the default.
Every loop in this package is bounded by one of these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


class EmailParseError(ValueError):
    """The input cannot be treated as an email at all (the API answers 422 with this message)."""


@dataclass(frozen=True, slots=True)
class EmailLimits:
    """Configurable bounds; exceeding one truncates the analysis and records a defect."""

    max_bytes: int = 10 * 1024 * 1024
    max_depth: int = 20
    max_parts: int = 1000
    max_header_bytes: int = 1024 * 1024
    max_headers: int = 1000
    max_header_value_chars: int = 16 * 1024
    max_text_per_part: int = 50 * 1024
    max_body_text: int = 200 * 1024
    max_addresses: int = 100
    max_encoded_words: int = 200
    max_received: int = 100
    max_urls: int = 500
    max_attachments: int = 200

    def __post_init__(self) -> None:
        for name in self.__slots__:
            if getattr(self, name) <= 0:
                raise ValueError(f"EmailLimits.{name} must be positive")
