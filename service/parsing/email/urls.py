"""URLs an email points to: links in its HTML and URLs written in its text."""

from __future__ import annotations

import re2

_URL = re2.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'`{}|\\^\[\]]+")
_TRAILING = ".,;:!?)'\""
_LINK_SCHEMES = ("http://", "https://", "www.")


def collect_urls(text: str, links: list[str], max_urls: int) -> list[str]:
    """Unique URLs, HTML link targets first, then URLs in the text; at most max_urls."""
    seen: dict[str, None] = {}
    for link in links:
        if link.lower().startswith(_LINK_SCHEMES):
            seen.setdefault(link.strip()[:2048], None)
        if len(seen) >= max_urls:
            return list(seen)
    for found in _URL.finditer(text):
        seen.setdefault(str(found.group(0)).rstrip(_TRAILING), None)
        if len(seen) >= max_urls:
            break
    return list(seen)
