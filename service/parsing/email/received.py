"""Parse one Received header into a relay, the way SpamAssassin's Received parser reads it.

`parse_received(value)` returns a `RelayFields` for a handover between two hosts, `SKIPPED` for a
line that names no relay (local delivery, scanners, fetchmail...), or `None` when the line cannot be
read. It works on bytes because RE2 on bytes avoids the str<->UTF-8 offset work of the wrapper.
"""

from __future__ import annotations

import re2

from service.parsing.email import received_rules as rules
from service.parsing.email.ipaddr import IP_RX, normalize_ip
from service.parsing.email.received_auth import detect_auth
from service.parsing.email.received_post import RelayFields, clean_envfrom, fields_from, finish
from service.parsing.email.rx import first_group, groups, matches
from service.parsing.email.rx import spans as rx_spans

_DATE_WINDOW = 160
_MAX_LINE = 4096  # a Received header longer than this is cut: real ones are < 1 KB
_DATE_TAIL = re2.compile(
    rb"[\s;]+((?:(?:Mon|T(?:ue|hu)|Wed|Fri|S(?:at|un)), )?\d+ "
    rb"(?:J(?:an|u[nl])|Feb|Ma[ry]|A(?:pr|ug)|Sep|Oct|Nov|Dec) \d+ \d+:\d+(?::\d+)? \S+)$"
)
_ID = re2.compile(rb" id <?([^\s<>;]{3,})")
_HELO_EQ = re2.compile(rb"\bhelo=([-A-Za-z0-9.\^+_&:=?!@%*$\\/]+)")
_HELO_CMD = re2.compile(rb"\b(?:HELO|EHLO) ([-A-Za-z0-9.\^+_&:=?!@%*$\\/]+)")
_ENVFROM = re2.compile(rb"(?i)(?:return-path:? |envelope-(?:sender|from)[ =])(\S+)\b")
_LOCAL_FROM_BY = re2.compile(rb"(?i)^from (\S+) by [^\s;]+ ?;")
_BRACKETED_V4 = re2.compile(rb"^\[[\d.]+\]$")
_SQUIRREL = re2.compile(rb"({IP})\b[^.\-].{9,79}by (\S+) with HTTP".replace(b"{IP}", IP_RX))
_AOL = rules.compile_rx(rb"({IP}) by (\S+) \({IP}\) with HTTP \(WebMailUI\)")
_BRACKET_IP = rules.compile_rx(rb"\[({IP})\]")
_GUESS_HELO = re2.compile(rb"^(\S+)[^-A-Za-z0-9.]")
_LOOSE_HELO = re2.compile(rb" \((\S+)\) ")
_LOOSE_IP = rules.compile_rx(rb" \[({IP})(?:\.\d+)?\] ")
_LOOSE_BY = re2.compile(rb"by (\S+) ")


class Skip:
    """Marker for a line that was recognised as naming no relay."""

    def __init__(self, fetcher: bool = False, envfrom: str | None = None) -> None:
        self.fetcher = fetcher
        self.envfrom = envfrom


SKIPPED = Skip()
_WITH_HTTP_WORD = re2.compile(rb"\bwith HTTP\b")
_WITH_LOCAL_FOR = re2.compile(rb"\bwith local for\b")


_first = first_group


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def _collapse(raw: bytes) -> bytes:
    """Whitespace runs to one space, trailing semicolons dropped (as SpamAssassin does first)."""
    line = b" ".join(raw[:_MAX_LINE].split())
    while line.endswith(b";"):
        line = line[:-1].rstrip()
    return line


def _cut_date(line: bytes) -> tuple[bytes, bytes]:
    """Cut the trailing date; return (line, date text)."""
    date = line[line.rfind(b";") + 1 :].strip() if b";" in line else b""
    # The date pattern ends the line and is short: searching the tail is the same, and cheaper.
    offset = max(0, len(line) - _DATE_WINDOW)
    found = rx_spans(_DATE_TAIL, line[offset:])
    if found is not None:
        date = line[offset + found[1][0] : offset + found[1][1]]
        line = line[: offset + found[0][0]]
    return line.replace(b")by ", b") by ", 1), date


def _names_no_relay(line: bytes) -> bool:
    """SpamAssassin's early exits, checked before the date is cut: not a 'from' line, local delivery,
    or 'from HOST by HOST;' with no address."""
    if not (line[:5].lower() == b"from " or line[:6].lower() == b"(from "):
        return True
    if b"with local for" in line and matches(_WITH_LOCAL_FOR, line):
        return True
    local = _first(_LOCAL_FROM_BY, line) if b";" in line else None
    return local is not None and not matches(_BRACKETED_V4, local)


def parse_received(raw: bytes) -> RelayFields | Skip | None:
    """Parse one unfolded Received value; see the module docstring for the three outcomes."""
    collapsed = _collapse(raw)
    if _names_no_relay(collapsed):
        return SKIPPED
    line, date = _cut_date(collapsed)
    base = _base_fields(line, date)
    if line.startswith(b"from "):
        found = _parse_from(line[5:], base)
    elif line.startswith(b"FROM "):
        found = _apply(rules.UPPER_FROM, line[5:], base)
    elif line.startswith(b"(from "):
        found = _first_rule(rules.PAREN_FROM, line[6:], base)
    else:
        found = None
    if found is None:
        found = _fallthrough(line, base)
    if isinstance(found, Skip):
        return found
    return None if found is None else finish(found)


def _base_fields(line: bytes, date: bytes) -> RelayFields:
    # Substring checks first: most lines lack helo=/HELO, and a regex call costs more than `in`.
    helo = _first(_HELO_EQ, line) if b"helo=" in line else None
    if helo is None and (b"HELO " in line or b"EHLO " in line):
        helo = _first(_HELO_CMD, line)
    by_at = line.find(b" by ")
    after_by = line[by_at:] if by_at >= 0 else b""
    with_at = after_by.find(b" with ")
    with_ = (
        after_by[with_at + 6 :].split(None, 1)[0] if with_at >= 0 and after_by[with_at + 6 :].strip() else b""
    )
    by = after_by[4:].split(None, 1)[0] if after_by[4:].strip() else b""
    return RelayFields(
        helo=_text(helo or b""),
        by=_text(by),
        id=_text(_first(_ID, line) or b"") if b" id " in line else "",
        auth=detect_auth(line),
        with_=_text(with_),
        date=_text(date),
    )


def _fallthrough(line: bytes, base: RelayFields) -> RelayFields | None:
    ip = base.ip
    if not ip:
        token = _first(_BRACKET_IP, line)
        ip = (normalize_ip(_text(token)) or "") if token else ""
    if ip and base.by:
        return base._replace(ip=ip)
    return None


def _parse_from(line: bytes, base: RelayFields) -> RelayFields | Skip | None:
    envfrom = _first(_ENVFROM, line)
    if envfrom is not None:
        base = base._replace(envfrom=_text(envfrom))
    special = _webmail(line, base)
    if special is not None:
        return special
    branch = _branch(line)
    if branch is not None:
        found = _first_rule(branch[2], line, base)
        if found is not None:
            return found
        if branch[0] == (b"Exim",):
            base = _exim_loose(line, base)
    return _generic(line, base)


def _branch(line: bytes) -> rules.Branch | None:
    """The MTA-specific branch whose guard the line passes first, if any (SpamAssassin's if/elsif)."""
    for branch in rules.BRANCHES:
        needs, guard, _ = branch
        for need in needs:
            if need in line:
                if guard is None or matches(guard, line):
                    return branch
                break
    return None


def _webmail(line: bytes, base: RelayFields) -> RelayFields | None:
    if b" (SquirrelMail authenticated user " in line or b" (NaSMail authenticated user " in line:
        found = groups(_SQUIRREL, line)
        ip = normalize_ip(_text(found[0] or b"")) if found else None
        if found is not None and ip:
            return base._replace(ip=ip, by=_text(found[1] or b""))
    if b"aol.com" in line and b"with HTTP (WebMailUI)" in line:
        found = groups(_AOL, line)
        ip = normalize_ip(_text(found[0] or b"")) if found else None
        if found is not None and ip:
            return base._replace(ip=ip, by=_text(found[1] or b""))
    return None


def _exim_loose(line: bytes, base: RelayFields) -> RelayFields:
    """Exim's odd formats: take the little bits SpamAssassin takes, whatever else the line says."""
    rdns = _first(rules.BRANCHES[4][2][4].rx, line) or b""
    helo = _first(_LOOSE_HELO, line)
    ip_token = _first(_LOOSE_IP, line)
    by = _first(_LOOSE_BY, line)
    return base._replace(
        rdns=_text(rdns),
        helo=_text(helo) if helo is not None else base.helo,
        ip=(normalize_ip(_text(ip_token)) or "") if ip_token else base.ip,
        by=_text(by) if by is not None else base.by,
    )


def _generic(line: bytes, base: RelayFields) -> RelayFields | Skip | None:
    hits = _hits(line)
    if rules.WITH_HTTP.slot in hits and matches(_WITH_HTTP_WORD, line):
        found = _apply(rules.WITH_HTTP, line, base)
        if found is not None:
            return found
    if base.ip and base.by:  # the loose Exim branch found enough
        return base
    if rules.QMAIL_LDAP.slot not in hits and rules.SENDMAIL.slot in hits:
        found = _apply(rules.SENDMAIL, line, base)
        if found is not None:
            return found
    found = _first_rule(rules.GENERIC_A, line, base)
    if found is None:
        found = _qmail(line, base)
    if found is None:
        found = _first_rule(rules.GENERIC_B, line, base)
    if found is None:
        found = _first_rule(rules.IGNORED, line, base)
    if found is None and not base.helo:
        guess = _first(_GUESS_HELO, line)
        if guess is not None:
            return _fallthrough(line, base._replace(helo=_text(guess)))
    return found


def _qmail(line: bytes, base: RelayFields) -> RelayFields | None:
    """qmail's many forms; SpamAssassin refuses a line whose SMTP/QMQP word is followed by ' id '."""
    if rules.QMAIL_HEAD.slot not in _hits(line) or not _smtp_word_without_id(line):
        return None
    found = _first_rule(rules.QMAIL, line, base)
    if not isinstance(found, RelayFields):
        return base  # SpamAssassin accepts the qmail line even when no sub-form gave the IP
    return found._replace(rdns="") if found.rdns == "unknown" else found


def _smtp_word_without_id(line: bytes) -> bool:
    """Perl's `with (.* )?(SMTP|QMQP)(?! id )`: some SMTP/QMQP word after 'with' is not followed by ' id '.
    RE2 has no lookahead; scanning the words is exact and cheaper than a capturing regex."""
    start = line.find(b" with ", max(0, line.find(b" by ")))
    if start < 0:
        return False
    for word in (b" SMTP", b" QMQP"):
        pos = line.find(word, start)
        while pos >= 0:
            if not line.startswith(b" id ", pos + len(word)):
                return True
            pos = line.find(word, pos + len(word))
    return False


def _first_rule(
    candidates: tuple[rules.Rule, ...], line: bytes, base: RelayFields
) -> RelayFields | Skip | None:
    hits = _hits(line)
    for rule in candidates:
        if rule.slot not in hits or (rule.need is not None and rule.need not in line):
            continue
        found = _apply(rule, line, base)
        if found is not None:
            return found
    return None


_last_hits: list[tuple[bytes, frozenset[int]]] = [(b"", frozenset())]


def _hits(line: bytes) -> frozenset[int]:
    """Indexes of the rules that match `line` (one RE2 set pass, memoised for the current line)."""
    cached_line, cached = _last_hits[0]
    if cached_line is line:
        return cached
    found = frozenset(rules.RULE_SET.Match(line) or ())
    _last_hits[0] = (line, found)
    return found


def _apply(rule: rules.Rule, line: bytes, base: RelayFields) -> RelayFields | Skip | None:
    found = groups(rule.rx, line)
    if found is None:
        return None
    if rule.fix in ("skip", "fetcher", "qmail_scanner"):
        return _skip_for(rule.fix, base)
    if rule.fix == "exim_loose":
        return None
    values = {name: found[i] or b"" for i, name in enumerate(rule.fields) if name != "_"}
    return fields_from(rule, values, line, base)


def _skip_for(fix: str | None, base: RelayFields) -> Skip:
    if fix == "fetcher":
        return Skip(fetcher=True)
    if fix == "qmail_scanner":
        return Skip(envfrom=clean_envfrom(base.envfrom))  # the next handover's sender, cleaned as SA does
    return SKIPPED
