"""Turn HTML into plain text without running anything, and collect the links it points to.

Linear scans with str.find: no HTML parser (the stdlib one uses backtracking regexes and has had
quadratic cases), no script, no style, comments dropped, entities decoded by hand.
"""

from __future__ import annotations

from html.entities import html5

_BLOCK_NAMES = (
    "br p div tr li ul ol table h1 h2 h3 h4 h5 h6 blockquote hr title section article header footer"
)
_BLOCK_TAGS = frozenset(_BLOCK_NAMES.split() + ["/" + name for name in _BLOCK_NAMES.split()])
_LINK_ATTRS = ("href", "src", "action")
_SKIP_CONTENT = ("script", "style", "head")
_MAX_LINKS = 1000
_MAX_TAGS = 100_000
_MAX_TAG = 4096  # a longer "tag" is treated as text: the scan stays linear


def unescape(text: str) -> str:
    """Decode HTML character references (named, decimal, hex) with a linear scan."""
    if "&" not in text:
        return text
    out: list[str] = []
    pos = 0
    while True:
        amp = text.find("&", pos)
        if amp < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:amp])
        value, pos = _reference(text, amp)
        out.append(value)


def _reference(text: str, amp: int) -> tuple[str, int]:
    """Decode the reference at `amp`; return (text, position after it). Unknown ones stay as is."""
    end = amp + 1
    limit = min(len(text), amp + 33)
    if text.startswith("#", end):
        end += 1
        hexa = text[end : end + 1] in ("x", "X")
        end += hexa
        digits_start = end
        allowed = "0123456789abcdefABCDEF" if hexa else "0123456789"
        while end < limit and text[end] in allowed:
            end += 1
        if end == digits_start:
            return "&", amp + 1
        code = int(text[digits_start:end], 16 if hexa else 10)
        end += text.startswith(";", end)
        return (chr(code) if 0 < code < 0x110000 else "\ufffd"), end
    while end < limit and text[end].isascii() and text[end].isalnum():
        end += 1
    name = text[amp + 1 : end]
    if text.startswith(";", end) and name + ";" in html5:
        return html5[name + ";"], end + 1
    if name in html5:
        return html5[name], end
    return "&", amp + 1


def _tidy(text: str) -> str:
    """Collapse runs of spaces on each line and runs of blank lines."""
    lines: list[str] = []
    for raw_line in text.split("\n"):
        line = " ".join(raw_line.split())
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip()


def html_links(html: str, max_links: int = _MAX_LINKS) -> list[str]:
    """Targets of href / src / action attributes, in document order."""
    lower = html.lower()
    found: list[tuple[int, str]] = []
    attempts = 4 * max_links  # "hrefhrefhref..." must not cost one step per occurrence
    for attr in _LINK_ATTRS:
        pos = lower.find(attr)
        while pos >= 0 and len(found) < max_links and attempts > 0:
            attempts -= 1
            value = _attribute_value(html, pos, len(attr))
            if value:
                found.append((pos, unescape(value).strip()))
            pos = lower.find(attr, pos + len(attr))
    return [value for _, value in sorted(found)]


def _attribute_value(html: str, pos: int, name_len: int) -> str | None:
    """The value of the attribute whose name starts at pos, or None if this is not one."""
    if pos > 0 and not html[pos - 1].isspace() and html[pos - 1] not in "\"'/":
        return None
    cursor = pos + name_len
    while cursor < len(html) and html[cursor] in " \t\r\n":
        cursor += 1
    if not html.startswith("=", cursor):
        return None
    cursor += 1
    while cursor < len(html) and html[cursor] in " \t\r\n":
        cursor += 1
    quote = html[cursor : cursor + 1]
    if quote in ('"', "'"):
        end = html.find(quote, cursor + 1, cursor + 1 + _MAX_TAG)
        return html[cursor + 1 : end] if end > cursor else None
    end = cursor
    while end < len(html) and end - cursor < _MAX_TAG and not html[end].isspace() and html[end] != ">":
        end += 1
    return html[cursor:end]


def html_to_text(html: str, max_chars: int) -> str:
    """The visible text of an HTML document, capped at max_chars."""
    # Markup-heavy parts: bound the scan (size and tag count), not just the text.
    html = html[: max_chars * 20]
    chunks = html.split("<", _MAX_TAGS)
    if len(chunks) > _MAX_TAGS:
        chunks.pop()  # the unscanned rest
    lower = html.lower()
    # One lower() for the document instead of one per tag, when lower-casing keeps every length.
    names = lower.split("<", _MAX_TAGS)[: len(chunks)] if len(lower) == len(html) else None
    out = [chunks[0]]
    skipping = ""  # inside <script>, <style> or <head>: the closing tag we wait for
    in_comment = False
    for index in range(1, len(chunks)):
        chunk = chunks[index]
        if in_comment or chunk.startswith("!--"):
            end = chunk.find("-->", 0 if in_comment else 3)
            in_comment = end < 0
            if not in_comment and not skipping:
                out.append(chunk[end + 3 :])
            continue
        gt = chunk.find(">", 0, _MAX_TAG)
        if gt < 0:
            if not skipping:
                out.append("<" + chunk)
            continue
        source = names[index] if names is not None else chunk.lower()
        head = source[: gt if gt < 16 else 16].split(None, 1)  # inline: this loop is hot
        name = head[0].rstrip("/") if head else ""
        if skipping:
            if name != skipping:
                continue
            skipping = ""
        if name in _SKIP_CONTENT:
            skipping = "/" + name
            continue
        if name in _BLOCK_TAGS:
            out.append("\n")
        elif name == "td":
            out.append(" ")
        out.append(chunk[gt + 1 :])
    return _tidy(unescape("".join(out)[:max_chars]))
