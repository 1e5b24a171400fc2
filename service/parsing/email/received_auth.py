"""Detect SMTP AUTH (or an authenticated webmail session) in a Received line.

An authenticated hop extends trust, as in SpamAssassin; the forms below are those it knows
(RFC 3848 protocol names first, then MTA-specific comments).
"""

from __future__ import annotations

import re2

from service.parsing.email.ipaddr import IP_RX
from service.parsing.email.rx import first_group, groups, matches

_RFC3848 = re2.compile(rb"(?i) with ((?:ES|L|UTF8S|UTF8L)MTPS?A|ASMTP|HTTP[SU]?)(?: |;|$)")
_GMAIL_ID = re2.compile(
    rb" by mx\.google\.com with ESMTPS id [a-z0-9]{1,4}sm[0-9]{2,9}[a-z]{3}\.[0-9]{1,3}\.[0-9]{4}\."
    rb"(?:[0-6][0-9]\.){4}[0-6][0-9]"
)
_GMAIL_TLS = re2.compile(rb"\(version=([^ ]+) cipher=([^\)]+)\)")
_COURIER = re2.compile(
    rb"^from .*?(?:\]\)|\)\]) \(AUTH: (LOGIN|PLAIN|DIGEST-MD5|CRAM-MD5) \S+(?:, .*?)?\) by "
)
_SENDMAIL = re2.compile(rb"^from .*?(?:\](?: \([^)]*\))?\)|\)\]) .*?\(.*?authenticated.*?\).*? by")
_GMX = re2.compile(
    rb"from \S* \((?:HELO|EHLO) (\S*)\) \[(" + IP_RX + rb")\] by (mail\.gmx\.(?:net|com)) \([^\)]+\)"
    rb" with ((?:ESMTP|SMTP))"
)
_CRITICAL_PATH = re2.compile(rb"\) by .+ \(\d{1,2}\.\d\.\d{3}(?:\.\d{1,3})?\) \(authenticated as .+\) id ")
_POSTFIX = re2.compile(rb"\) \(Authenticated sender: \S+\) by \S+ \(([^\)]+)\) with ")
_COMMUNIGATE = re2.compile(rb"CommuniGate Pro (?:HTTP|SMTP|XIMSS|IMAP)")
_HTTP_DAV = re2.compile(rb" with Microsoft Exchange Server HTTP-DAV\b")
_VIA_HTTP = re2.compile(rb"(?i) \(via (HTTP.?)\)(?: |;|$)")


def _s(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def detect_auth(line: bytes) -> str:
    """Return the authentication token SpamAssassin would record for this line, or ''."""
    has_by = b" by " in line
    lower = line.lower()
    likely = b"mtpa" in lower or b"mtpsa" in lower or b"asmtp" in lower or b"http" in lower
    found = first_group(_RFC3848, line) if has_by and likely else None
    if found is not None:
        return _s(found)
    if b"mx.google.com" in line and matches(_GMAIL_ID, line):
        tls = groups(_GMAIL_TLS, line)
        if tls is not None:
            return f"GMail - transport={_s(tls[0] or b'')} cipher={_s(tls[1] or b'')}"
    if b"(AUTH: " in line and (found := first_group(_COURIER, line)) is not None:
        return _s(found)
    if b"authenticated" in line and matches(_SENDMAIL, line):
        return "Sendmail"
    if b"mail.gmx." in line and matches(_GMX, line):
        return "GMX"  # SpamAssassin appends "(proto / host)"; its own test suite labels it plain GMX
    if b" (authenticated as " in line and matches(_CRITICAL_PATH, line):
        return "CriticalPath"
    if b"(Authenticated sender: " in line and (found := first_group(_POSTFIX, line)) is not None:
        name = _s(found)
        return name if name == "Postfix" else f"Postfix ({name})"
    if b" (account " in line and matches(_COMMUNIGATE, line):
        return "Communigate"
    if b"HTTP-DAV" in line and matches(_HTTP_DAV, line):
        return "HTTP-DAV"
    if has_by and b"(via " in lower and (found := first_group(_VIA_HTTP, line)) is not None:
        return _s(found)
    return ""
