"""What a matched Received rule yields: the relay fields, and each rule's small post-step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import re2

from service.parsing.email import received_rules as rules
from service.parsing.email.ipaddr import normalize_ip
from service.parsing.email.rx import first_group

_XMAIL_ID = re2.compile(rb" id <(\S+)>")
_XMAIL_FROM = re2.compile(rb" from <(\S+)>")
_LEADING_IP = rules.compile_rx(rb"^({IP}) ")
_SUB_HELO = re2.compile(rb"helo=(\S+)")
_SUB_IDENT = re2.compile(rb"ident=(\S*)")
_first = first_group


_STRIP_CHARS = b"\t\n\r\x0b\x0c #[]()<>|\x00"
_STRIP = bytes.maketrans(_STRIP_CHARS, b"!" * len(_STRIP_CHARS))


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def _clean(value: bytes) -> str:
    return _text(value.translate(_STRIP))


class RelayFields(NamedTuple):
    """What one Received line says about a handover; '' where the line does not say."""

    ip: str = ""
    rdns: str = ""
    helo: str = ""
    by: str = ""
    ident: str = ""
    envfrom: str = ""
    id: str = ""
    auth: str = ""
    with_: str = ""
    date: str = ""
    fetcher: bool = False


def fields_from(
    rule: rules.Rule, values: dict[str, bytes], line: bytes, base: RelayFields
) -> RelayFields | None:
    """Turn a rule's groups into relay fields; None when its IP group is not an address."""
    fields: dict[str, Any] = {name: _text(value) for name, value in values.items() if name != "sub"}
    if "ip" in fields:
        fields["ip"] = normalize_ip(fields["ip"])
        if fields["ip"] is None:
            return None  # not an address after all: the rule does not match, as in Perl
    post = _POST_STEPS.get(rule.fix or "")
    if post is not None:
        post(fields, values, line, base)
    if fields.get("ident", "").endswith("@"):
        fields["ident"] = fields["ident"][:-1]
    return base._replace(**fields)


def _post_exim(fields: dict[str, Any], values: dict[str, bytes], line: bytes, base: RelayFields) -> None:
    fields.update(_exim_sub(values.get("sub", b""), ""))


def _post_exim_rdns(fields: dict[str, Any], values: dict[str, bytes], line: bytes, base: RelayFields) -> None:
    fields.update(_exim_sub(values.get("sub", b""), fields.get("rdns", "")))


def _post_helo_is_rdns(
    fields: dict[str, Any], values: dict[str, bytes], line: bytes, base: RelayFields
) -> None:
    fields["helo"] = fields["rdns"]


def _post_ident_in_rdns(
    fields: dict[str, Any], values: dict[str, bytes], line: bytes, base: RelayFields
) -> None:
    fields.update(_ident_in_rdns(fields["rdns"]))


def _post_softdnserr(
    fields: dict[str, Any], values: dict[str, bytes], line: bytes, base: RelayFields
) -> None:
    if fields["rdns"] == "softdnserr":  # couriertcpd's placeholder, not a name
        fields["rdns"] = ""


def _post_unverified(
    fields: dict[str, Any], values: dict[str, bytes], line: bytes, base: RelayFields
) -> None:
    if fields["rdns"] == "unverified":  # simta's placeholder, not a name
        fields["rdns"] = ""


def _post_xmail(fields: dict[str, Any], values: dict[str, bytes], line: bytes, base: RelayFields) -> None:
    fields["id"] = _text(_first(_XMAIL_ID, line) or b"") or base.id
    env = _first(_XMAIL_FROM, line)
    if env is not None:
        fields["envfrom"] = _text(env)


def _post_hotmail(fields: dict[str, Any], values: dict[str, bytes], line: bytes, base: RelayFields) -> None:
    token = _first(_LEADING_IP, line)
    fields["ip"] = (normalize_ip(_text(token)) or "") if token else ""


_PostStep = Callable[[dict[str, Any], dict[str, bytes], bytes, RelayFields], None]
_POST_STEPS: dict[str, _PostStep] = {
    "exim_sub": _post_exim,
    "exim_rdns_sub": _post_exim_rdns,
    "helo_is_rdns": _post_helo_is_rdns,
    "ident_in_rdns": _post_ident_in_rdns,
    "softdnserr": _post_softdnserr,
    "unverified": _post_unverified,
    "noid": lambda fields, *_: fields.__setitem__("id", ""),
    "noby": lambda fields, *_: fields.__setitem__("by", ""),
    "xmail": _post_xmail,
    "hotmail": _post_hotmail,
}


def _exim_sub(sub: bytes, default_helo: str) -> dict[str, str]:
    out = {"helo": default_helo} if default_helo else {}
    helo = _first(_SUB_HELO, sub)
    if helo is not None:
        out["helo"] = _text(helo)
        sub = sub.replace(b"helo=" + helo, b"", 1)
    ident = _first(_SUB_IDENT, sub)
    if ident is not None:
        out["ident"] = _text(ident)
    return out


def _ident_in_rdns(rdns: str) -> dict[str, str]:
    out = {"rdns": rdns}
    if rdns.startswith("IDENT:") and "@" in rdns:
        out["ident"], out["rdns"] = rdns[6:].split("@", 1)
    if "@" in out["rdns"]:
        out["ident"], out["rdns"] = out["rdns"].split("@", 1)
    return out


def finish(fields: RelayFields) -> RelayFields:
    """SpamAssassin's final clean-up: trailing dots, 'unknown' rDNS, forbidden characters -> '!'."""
    rdns = fields.rdns.rstrip(".")
    if rdns.lower() == "unknown" or rdns.startswith("["):
        rdns = ""
    return fields._replace(
        rdns=_clean(rdns.encode("utf-8", "replace")),
        helo=_clean(fields.helo.encode("utf-8", "replace")),
        by=_clean(fields.by.rstrip(";").encode("utf-8", "replace")),
        ident=_clean(fields.ident.encode("utf-8", "replace")),
        envfrom=clean_envfrom(fields.envfrom),
    )


def clean_envfrom(envfrom: str) -> str:
    """Envelope sender without its angle brackets, forbidden characters as '!'."""
    return _clean(envfrom.lstrip(" <").rstrip(" >").encode("utf-8", "replace"))
