"""The Received-line formats, as an ordered table of RE2 rules.

The order and the formats follow Apache SpamAssassin 4.0's `Message::Metadata::Received`
(Apache-2.0), the reference the project is judged against; each rule names the MTA family it
recognises. A rule maps its capture groups to relay fields; `fix` names a small post-step.
Rules run on the line with the leading "from " removed, whitespace collapsed and the date cut.
"""

from __future__ import annotations

from typing import NamedTuple

import re2

from service.parsing.email.ipaddr import IP_RX

_LOCALHOST = (
    rb"(?:localhost(?:\.localdomain)?|\b127\.0\.0\.1\b"
    rb"|(?:[Ii][Pp][Vv]6:)?(?:0{0,4}:){2,7}(?:0{0,3}1\b|[Ff]{4}:127\.0\.0\.1\b))"
)


class Rule(NamedTuple):
    """One format: a cheap substring guard, the pattern, the field each group fills, a post-step."""

    need: bytes | None
    rx: re2._Regexp
    fields: tuple[str, ...]
    fix: str | None
    slot: int  # position in RULE_SET


_PATTERNS: list[bytes] = []


def expand(pattern: bytes) -> bytes:
    """Expand the {IP} and {LOCALHOST} placeholders of a rule pattern."""
    return pattern.replace(b"{IP}", IP_RX).replace(b"{LOCALHOST}", _LOCALHOST)


def compile_rx(pattern: bytes) -> re2._Regexp:
    """Compile a bytes RE2 pattern, expanding {IP} and {LOCALHOST}."""
    return re2.compile(expand(pattern))


def _r(pattern: bytes, fields: str = "", fix: str | None = None, need: bytes | None = None) -> Rule:
    _PATTERNS.append(expand(pattern))
    return Rule(need, compile_rx(pattern), tuple(fields.split()), fix, len(_PATTERNS) - 1)


# Branches: the first whose guard matches is tried; if none of its rules match, the generic list runs.
# (substrings of which a line of the branch has one, the branch's guard pattern when they are not
# enough, the branch's rules)
Branch = tuple[tuple[bytes, ...], re2._Regexp | None, tuple[Rule, ...]]
BRANCHES: tuple[Branch, ...] = (
    (
        (b" SMTPSVC",),  # Microsoft IIS SMTP service
        None,
        (
            _r(rb"^(\S*) \(\[({IP})\][^\)]{0,40}\) by (\S+) with Microsoft SMTPSVC", "helo ip by"),
            _r(rb"^mail pickup service by (\S+) with Microsoft SMTPSVC$", "_", "skip"),
        ),
    ),
    (
        (b"Microsoft SMTP Server", b"mapi id"),
        compile_rx(rb" with (?:Microsoft SMTP Server|mapi id) (?:\([^\)]+\) )?\d+\.\d+\.\d+\.\d+(?:$| )"),
        # Exchange / Outlook.com, IPv6 with %zone ids
        (_r(rb"^(\S+) \(\[?({IP})(?:%[A-Za-z0-9._~-]*)?\]?\) by (\S+) ", "helo ip by", "noid"),),
    ),
    (
        (b"[XMail ",),
        None,
        (_r(rb"^(\S+) \((\[?{IP}\]?)(?::\d+)\) by (\S+)(?: \(\S+\))? with \[XMail", "helo ip by", "xmail"),),
    ),
    (
        (b"(ecelerity",),
        compile_rx(rb"\(ecelerity\b"),
        (
            _r(rb"^\(\[({IP}):\d+\] helo=(\S+)\) by (\S+) ", "ip helo by"),
            _r(rb"^\S+ \(\[({IP}):\d+\]\) by (\S+) ", "ip by"),
        ),
    ),
    (
        (b"Exim",),
        None,
        (
            _r(rb"\bwith local(?:-\S+)? ", "", "skip"),
            _r(rb"^\[({IP})\] \((.*?)\) by (\S+) ", "ip sub by", "exim_sub"),
            _r(rb"^(\S+) \(\[({IP})\](.*?)\) by (\S+) ", "rdns ip sub by", "exim_rdns_sub"),
            _r(rb"^(\S+) \[({IP})\](:\d+)? by (\S+) ", "rdns ip _ by", "helo_is_rdns"),
            _r(rb"^(\S+) ", "rdns", "exim_loose"),
        ),
    ),
    (
        (b" (Postfix) with",),
        None,
        (
            _r(rb"^(\S+) \((\S+) \[({IP})\]\) by (\S+) ", "helo rdns ip by"),
            _r(rb"^(\S+) \((\S+)\[({IP})\]\) by (\S+) ", "helo rdns ip by"),
        ),
    ),
    ((b"(Scalix SMTP Relay",), None, (_r(rb"^(\S+) \( ?({IP})\) by (\S+)", "helo ip by"),)),
    ((b" (Lotus Domino ",), None, (_r(rb"^(\S+) \(\[({IP})\]\) by (\S+) \(Lotus", "helo ip by"),)),
)

QMAIL_LDAP = _r(rb" by \S+ \(qmail-\S+\) with ", "", "guard")
SENDMAIL = _r(rb"^(\S+) \((\S+) \[({IP})\].*\) by (\S+) \(", "helo rdns ip by", "ident_in_rdns")
WITH_HTTP = _r(rb"^({IP}) \(\[{IP}\]\) by (\S+)", "ip by", None, b"with HTTP")

GENERIC_A: tuple[Rule, ...] = (
    _r(rb"^(\S+) \((\S+) \[({IP})\]\) by (\S+) with \S+ \(", "helo rdns ip by"),
    _r(rb"^(\S+) \(\[({IP})\] helo=(\S+)\) by (\S+) with ", "rdns ip helo by"),
    _r(rb"^(\S+) \(<unknown\S*>\[({IP})\]\) by (\S+) ", "helo ip by"),
    _r(rb"^(\S+) \((\S+\.\S+)\[({IP})\]\) by (\S+) ", "helo rdns ip by"),
    _r(rb"^(\S+) \((\S*)\@\[({IP})\].*\) by (\S+) \(", "helo ident ip by"),
    _r(rb"by (\S+\.hotmail\.msn\.com) ", "by", "hotmail", b"hotmail.msn.com"),
    _r(
        rb"^(\S+) \((?:HELO|EHLO) (\S*)\) \(({IP})\) by (\S+) \(qpsmtpd/\S+\) with (?:ESMTP|SMTP)",
        "rdns helo ip by",
    ),
    _r(rb"^(\S+) \(LHLO (\S*)\) \(({IP})\) by (\S+) with LMTP", "rdns helo ip by"),
    _r(
        rb"^(\S+) \((?:HELO|EHLO) (\S*)\) \[({IP})\] by (\S+) \([^\)]+\) with (?:ESMTP|SMTP)",
        "rdns helo ip by",
    ),
    _r(rb"^(\S+) \(\[({IP})\]\) by (\S+) via smtpd \(for \S+\) with SMTP\(", "helo ip by"),
)

# qmail family, tried in this order once QMAIL_HEAD matched (qmail-smtpd and qmail-ldap variants).
QMAIL_HEAD = _r(
    rb"^\S+(?: \((?:HELO|EHLO) \S*\))? \((?:\S+\@)?\[?{IP}\]?\)(?: \(envelope-sender <\S+>\))? by \S+"
    rb"(?: \(.+\))* with (?:.* )?(?:SMTP|QMQP)",
    "",
    "guard",
)
QMAIL: tuple[Rule, ...] = (
    _r(rb"^(\S+) \((?:HELO|EHLO) ([^ \(\)]*)\) \((\S*)\@\[?({IP})\]?\)( \(envelope-sender <\S+>\))? by (\S+)",
       "rdns helo ident ip _ by"),
    _r(rb"^(\S+) \((?:HELO|EHLO) ([^ \(\)]*)\) \(\[?({IP})\]?\)( \(envelope-sender <\S+>\))? by (\S+)",
       "rdns helo ip _ by"),
    _r(rb"^(\S+) \((\S*)\@\[?({IP})\]?\)( \(envelope-sender <\S+>\))? by (\S+)", "rdns ident ip _ by",
       "helo_is_rdns"),
    _r(rb"^(\S+) \(\[?({IP})\]?\)( \(envelope-sender <\S+>\))? by (\S+)", "rdns ip _ by", "helo_is_rdns"),
)  # fmt: skip

GENERIC_B: tuple[Rule, ...] = (
    _r(rb"^\[({IP})\] by (\S+) via HTTP$", "ip by", None, b" via HTTP"),
    _r(rb"^(\S+) \( \[({IP})\]\).*? by (\S+) ", "_ ip by"),
    _r(rb"^\((\S+) \[({IP})\]\) by (\S+) ", "helo ip by"),
    _r(rb"^\[({IP})\] by (\S+) ", "ip by"),
    _r(rb"^\(\[?({IP})\]?\) by (\S+) ", "ip by"),
    _r(rb"^(\S+) \[({IP})\] by (\S+) \[{IP}\] with ", "helo ip by"),
    _r(rb"^(\S+) \[\(({IP})\)\] by (\S+) \({IP}\) ", "helo ip by"),
    _r(rb"^(\S+) \(\[({IP})\]\) by (\S+) \(", "helo ip by"),
    _r(rb"^(\S+) \((\S+) \[({IP})\]\).*? by (\S+)\b", "helo rdns ip by", "softdnserr"),
    _r(rb"^(\S+) \(\[({IP})(?:[.:]\d+)?\]\).*? by (\S+) ", "helo ip by"),
    _r(rb"^(\S+) \((\S+) \[({IP})\]\)(?: \(authenticated bits=\d+\))? by (\S+) \(", "helo rdns ip by"),
    _r(rb"with (?:POP3|IMAP)", "", "fetcher"),
    _r(rb"^(\S+) \((?:HELO|EHLO) ([^\)]*)\) \((\S*@)?\[?({IP})\]?\).* by (\S+) ", "rdns helo ident ip by"),
    _r(rb"^(\S+) \((\S*@)?\[?({IP})\]?\).* by (\S+) ", "rdns ident ip by", "helo_is_rdns"),
    _r(rb"^\[({IP})\] by (\S+) with http for ", "ip by", None, b" with http for "),
    _r(rb"^(\S+)\(({IP})\) by (\S+) via smap ", "rdns ip by", None, b" via smap "),
    _r(rb"^(\S+)\(({IP}), (?:HELO|EHLO) (\S*)\) by (\S+) via smap ", "rdns ip helo by"),
    _r(rb"^\[({IP})\] by (\S+) \(Post", "ip by", None, b" (Post"),
    _r(rb"^\[({IP})\] by (\S+) \(ArGoSoft", "ip by", None, b" (ArGoSoft"),
    _r(rb"^({IP}) by (\S+) \((?:SMTPL|InterScan)\b", "ip by"),
    _r(rb"^\S+ by \S+ with BSMTP", "", "skip", b" with BSMTP"),
    _r(rb"^(\S+) \((\S+) \[({IP})\]\) by (\S+) with ", "helo rdns ip by"),
    _r(rb"^(\S+) \((?:HELO|EHLO) (\S*)\) \((?:(\S+)\@)?({IP}).*?\) by (\S+) with ", "rdns helo ident ip by"),
    _r(rb"^\[({IP})\] \((?:account \S+ )?(?:HELO|EHLO) (\S*)\) by (\S+) \(", "ip helo by"),
    _r(rb"^(\S+) \(\[({IP})\] verified\) by (\S+) \(", "rdns ip by", "helo_is_rdns", b" (CommuniGate Pro"),
    _r(rb"^\(\[({IP})\]\) by (\S+) with ", "ip by"),
    _r(rb"^([^\d]\S+) \(({IP})\) by (\S+) ", "helo ip by"),
    _r(rb"^\S+ \(\S+\) by \S+ \(Content Technologies ", "", "skip"),
    _r(rb"^(\S+) \(\[({IP})\] \[(\S+)\]\) by (\S+) with ", "helo ip _ by"),
    _r(rb"^({IP}) by (\S+) with ", "ip by"),
    _r(rb"^(\S+) \((\S+)\[({IP})\]\) by (\S+) ", "helo rdns ip by"),
    _r(rb"^\[({IP})\]\S+ \((?:HELO|EHLO) (\S*)\) by (\S+) ", "ip helo by"),
    _r(rb"^({IP}) \((?:HELO|EHLO) (\S*)\) by (\S+) ", "ip helo by"),
    _r(rb"^(\S+) \[({IP})\] by (\S+) ", "helo ip by"),
    _r(rb"^(\S+)\(({IP})\) by (\S+) ", "rdns ip by"),
    _r(rb"^\[({IP})\] by (\S+) \(MailGate ", "ip by"),
    _r(rb"^(\S+) \(unverified \[({IP})\]\) by (\S+) ", "helo ip by"),
    _r(rb"^({IP}) \([A-Za-z][^\)]+\) by (\S+) with ", "ip by"),
    _r(rb"^\[({IP})\] \(([^\)]+)\) by (\S+) ", "ip sub by", "exim_sub"),
    _r(rb"^(\S+) \((?:\S+\@)?({IP})\) by (\S+) with ", "rdns ip by"),
    _r(rb'^(\S+)\(({IP})\)(?:, claiming to be "(\S+)")? via \S+ by (\S+),', "rdns ip helo by"),
    _r(rb"^(\S+) \((\S+)@({IP}) with login\) by (\S+\.yahoo\.com) with SMTP", "helo _ ip by"),
    _r(rb"^X-Originating-IP: ({IP})$", "ip", "noby"),
)

# Handovers that name no relay (local submission, scanners, list servers...): recognised, not parsed.
_IGNORED_BEFORE_SCANNER = (
    rb"^\S+ \([^\s\@]+\@{LOCALHOST}\) by \S+ \(",
    rb"^\S+ \S+ by \S+ with local-e?smtp ",
    rb"^127\.0\.0\.1 \(AVG SMTP \S+ \[\S+\]\)",
    rb"^\S+\@\S+ by \S+ by uid \S+ ",
    rb"^\S+\@\S+ by \S+ ",
    rb"^Unknown/Local \(",
    rb"^{LOCALHOST} \((?:\S+\@)?{LOCALHOST}[\)\[]",
    rb"^\S+ \((?:\S+\@)?{LOCALHOST}\) ",
    rb"^\S+ \(\S+\@\S+ \[{LOCALHOST}\]\) ",
    rb"^\(AUTH: \S+\) by \S+ with ",
    rb"^localhost \(localhost \[\[UNIX: localhost\]\]\) by ",
    rb"^\S+\.amazon\.com by \S+\.amazon\.com with ESMTP \(peer crosscheck: ",
    rb"^[^\.]+ by \S+ with Novell_GroupWise",
    rb"^no\.name\.available by \S+ via smtpd \(for ",
)
_IGNORED_AFTER_SCANNER = (
    rb"^\S+ by \S+ with local",
    rb"^\S+ \(\[unix socket\]\) by \S+ \(Cyrus v[0-9]*?\.[0-9]*?\.[0-9]*?\) with LMTPA",
    rb"^\S+ by \S+ (?:with|via|for|\()",
    rb"^\S+ (?:(?:with|via|for) \S+|\(unverified\)) by\b",
    rb"^\S+ \(unknown\) by \S+ \(SG\) with \b",
    rb"^\S+ \(\S+ \[local\]\) by \S+ \(OpenSMTPD\) with \b",
    rb"\(LSMTP for",
    rb"^\(\[{LOCALHOST}\]\) with MailEnable ",
    rb"^facebook\.com \([^\)]+\) by facebook\.com with Thrift id \S+$",
    rb"^\S+ named \S+ by gmailapi\.google\.com with HTTPREST$",
    rb"^\S+ id \S+$",
    rb"^\[<.*? \(Jetsend",
)
IGNORED: tuple[Rule, ...] = (
    *(_r(p, "", "skip") for p in _IGNORED_BEFORE_SCANNER),
    _r(rb"^\S+ by \S+ \(.{0,100}\) with qmail-scanner", "", "qmail_scanner"),
    *(_r(p, "", "skip") for p in _IGNORED_AFTER_SCANNER),
)

UPPER_FROM = _r(
    rb"^(\S+) \((\S+) \[({IP})\]\) BY (\S+) (?:\([^\)]+\) WITH SMTP )?ID <?(\S+?)>?(?: FOR <[^>]+>)?$",
    "helo rdns ip by id",
    "unverified",
)
PAREN_FROM: tuple[Rule, ...] = (
    _r(rb"^(\S*) \[({IP})\]\) by (\S+) \(NAVGW .*?\) with ", "helo ip by"),
    _r(rb"^\S+\@localhost\) by \S+ ", "", "skip"),
    _r(rb"^[^\s\@]+\@[^)]+\) by \S+\(jqueuemail\) id [^\s;]+", "", "skip"),
)


def _rule_set() -> re2.Set:
    """One RE2 set of every rule above: a single pass says which rules can match a line."""
    options = re2.Options()
    options.max_mem = 64 << 20  # below ~16 MiB the set's DFA thrashes (see measured-facts)
    rule_set = re2.Set.SearchSet(options)
    for pattern in _PATTERNS:
        rule_set.Add(pattern)
    rule_set.Compile()
    return rule_set


RULE_SET = _rule_set()
