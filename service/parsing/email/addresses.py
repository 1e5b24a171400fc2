"""Strict, bounded parsing of address headers (From, To, Reply-To, Sender, Return-Path).

We do not use `email.utils.parseaddr`: on Python 3.11 it is open to CVE-2023-27043 and reads
`alice@example.org)<bob@example.org>` as a valid sender. Here any unbalanced quote, comment or angle
bracket makes that mailbox unparseable: it is dropped with a defect, never guessed.
Display names are RFC 2047-decoded only after the structure has been parsed.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.parsing.email.charsets import decode_encoded_words

_MAX_COMMENT_DEPTH = 16
_DOMAIN_FORBIDDEN = frozenset(' \t"(),:;<>@[\\]')
_LOCAL_FORBIDDEN = frozenset(" \t(),:;<>[\\]")


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox: what it shows (display_name) and where it really goes (addr_spec, domain)."""

    display_name: str | None
    addr_spec: str
    domain: str

    def to_dict(self) -> dict[str, str | None]:
        """JSON-ready form."""
        return {"display_name": self.display_name, "addr_spec": self.addr_spec, "domain": self.domain}


class _Unbalanced(ValueError):
    """A quote, comment or angle bracket that does not close."""


class _Nesting:
    """Quote / comment / angle-bracket state while scanning an address list left to right."""

    def __init__(self) -> None:
        self.depth = 0
        self.angle = False
        self.quoted = False
        self.escaped = False

    def separator(self, char: str) -> bool:
        """Consume one character; True when it is a top-level list separator."""
        if self.escaped:
            self.escaped = False
        elif char == "\\" and (self.quoted or self.depth):
            self.escaped = True
        elif self.quoted:
            self.quoted = char != '"'
        elif char in "()":
            self._comment(char)
        elif not self.depth:
            return self._top_level(char)
        return False

    def _comment(self, char: str) -> None:
        if char == "(":
            self.depth += 1
            if self.depth > _MAX_COMMENT_DEPTH:
                raise _Unbalanced("comments nested too deep")
        elif self.depth == 0:
            raise _Unbalanced("')' without '('")
        else:
            self.depth -= 1

    def _top_level(self, char: str) -> bool:
        if char == '"':
            self.quoted = True
        elif char == "<":
            if self.angle:
                raise _Unbalanced("'<' inside '<>'")
            self.angle = True
        elif char == ">":
            if not self.angle:
                raise _Unbalanced("'>' without '<'")
            self.angle = False
        return char in ",;" and not self.angle

    def check_closed(self) -> None:
        if self.quoted or self.depth or self.angle:
            raise _Unbalanced("unclosed quote, comment or '<'")


def _split_simple(text: str, max_items: int) -> list[str]:
    """The common case, no quotes, comments or escapes: split at separators, check each '<...>'."""
    items = text.replace(";", ",").split(",", max_items + 1)
    for item in items:
        lt, gt = item.find("<"), item.find(">")
        if item.count("<") > 1 or item.count(">") > 1 or (lt < 0) != (gt < 0) or gt < lt:
            raise _Unbalanced("unbalanced '<' or '>'")
    return items


def _split_top_level(text: str, max_items: int) -> list[str]:
    """Split at commas outside quotes, comments and angle brackets; raise _Unbalanced on bad nesting."""
    if '"' not in text and "(" not in text and ")" not in text and "\\" not in text:
        return _split_simple(text, max_items)
    items: list[str] = []
    start = 0
    state = _Nesting()
    for index, char in enumerate(text):
        if state.separator(char):
            items.append(text[start:index])
            start = index + 1
            if len(items) > max_items:
                return items
    state.check_closed()
    items.append(text[start:])
    return items


def _strip_comments(text: str) -> tuple[str, str]:
    """Return (text without comments, the comments' text); input is known balanced."""
    out: list[str] = []
    comments: list[str] = []
    depth = 0
    quoted = False
    for char in text:
        if quoted:
            out.append(char)
            quoted = char != '"'
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth:
            comments.append(char)
        else:
            quoted = char == '"'
            out.append(char)
    return "".join(out), "".join(comments).strip()


def _valid_addr_spec(spec: str) -> tuple[str, str] | None:
    local, at, domain = spec.rpartition("@")
    if not at or not local or not domain or "@" in local.replace('"', "").strip('"'):
        return None
    if local.startswith('"') and local.endswith('"') and len(local) > 1:
        pass
    elif _LOCAL_FORBIDDEN.intersection(local) or '"' in local:
        return None
    domain = domain.rstrip(".").lower()
    if domain.startswith("[") and domain.endswith("]"):
        return local, domain
    if not domain or _DOMAIN_FORBIDDEN.intersection(domain) or ".." in domain or domain.startswith("."):
        return None
    return local, domain


def _angle_start(text: str) -> int:
    """Index of the first '<' outside a quoted string, or -1."""
    quoted = False
    escaped = False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            return index
    return -1


def _mailbox(item: str, max_words: int, defects: list[str]) -> Address | None:
    text, comments = _strip_comments(item)
    text = text.strip()
    if not text:
        return None
    lt = _angle_start(text)
    if lt >= 0:
        gt = text.find(">", lt)
        if text[gt + 1 :].strip():
            raise _Unbalanced("text after '>'")
        spec = text[lt + 1 : gt].strip()
        if spec.startswith("@") and ":" in spec:
            spec = spec.split(":", 1)[1]  # obsolete source route
        display = text[:lt].strip()
    else:
        spec, display = text, comments
    parts = _valid_addr_spec(spec)
    if parts is None:
        raise _Unbalanced("not an addr-spec")
    name = _display_name(display, max_words, defects)
    local, domain = parts
    return Address(display_name=name, addr_spec=f"{local}@{domain}", domain=domain)


def _display_name(display: str, max_words: int, defects: list[str]) -> str | None:
    if display.startswith('"') and display.endswith('"') and len(display) > 1:
        display = display[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if "=?" in display:
        display = decode_encoded_words(display.encode("utf-8", "surrogateescape"), max_words, defects)
    display = " ".join(display.split())
    return display or None


def parse_address_list(
    value: str, *, field: str, max_addresses: int, max_words: int, defects: list[str]
) -> list[Address]:
    """Parse an address-list header; unparseable mailboxes are dropped and recorded as defects."""
    if ":" in value and value.rstrip().endswith(";") and "<" not in value.split(":", 1)[0]:
        value = value.split(":", 1)[1]  # group syntax "name: a, b;"
    try:
        items = _split_top_level(value, max_addresses)
    except _Unbalanced as error:
        defects.append(f"unparseable {field}: {error}")
        return []
    if len(items) > max_addresses:
        defects.append(f"{field} has more than {max_addresses} addresses; the rest ignored")
        items = items[:max_addresses]
    found: list[Address] = []
    for item in items:
        try:
            address = _mailbox(item, max_words, defects)
        except _Unbalanced as error:
            defects.append(f"unparseable address in {field}: {error}")
            continue
        if address is not None:
            found.append(address)
    return found
