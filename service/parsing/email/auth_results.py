"""Authentication-Results (RFC 8601) and Received-SPF, as stamped by the receiving side.

The topmost Authentication-Results header is the one added by the recipient's own provider;
deeper ones were added by relays the sender may control, so only the topmost is read. Microsoft
writes no authserv-id and adds `(sender IP is X)`, which is the IP that reached the provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.parsing.email.ipaddr import normalize_ip

_METHODS = ("spf", "dkim", "dmarc")


@dataclass(frozen=True, slots=True)
class Auth:
    """SPF / DKIM / DMARC verdicts of the receiving side; None when it did not say."""

    spf: str | None = None
    dkim: str | None = None
    dmarc: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """JSON-ready form."""
        return {"spf": self.spf, "dkim": self.dkim, "dmarc": self.dmarc}


@dataclass(frozen=True, slots=True)
class AuthFindings:
    """Verdicts plus the connecting IPs the receiving side wrote down."""

    auth: Auth
    sender_ip: str | None  # Authentication-Results "(sender IP is X)" or smtp.remote-ip
    spf_client_ip: str | None  # Received-SPF client-ip=
    authserv_id: str | None = None  # who wrote the topmost Authentication-Results (None: Microsoft's form)
    present: bool = False  # an Authentication-Results header was there


def _split_outside_parens(text: str, sep: str) -> list[str]:
    """Split at `sep` outside comments and quotes, jumping from one special character to the next."""
    if "(" not in text and '"' not in text:
        return text.split(sep)
    items: list[str] = []
    depth = 0
    quoted = False
    start = 0
    pos = _next_special(text, sep, 0)
    while pos >= 0:
        char = text[pos]
        if char == '"' and depth == 0:
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")" and depth:
            depth -= 1
        elif char == sep and depth == 0 and not quoted:
            items.append(text[start:pos])
            start = pos + 1
        pos = _next_special(text, sep, pos + 1)
    items.append(text[start:])
    return items


def _next_special(text: str, sep: str, start: int) -> int:
    found = [i for i in (text.find(c, start) for c in (sep, "(", ")", '"')) if i >= 0]
    return min(found) if found else -1


def parse_authentication_results(value: str) -> tuple[dict[str, str], str | None]:
    """Return ({method: result} for the first result of each method, sender IP if stated)."""
    verdicts: dict[str, str] = {}
    sender_ip: str | None = None
    for index, item in enumerate(_split_outside_parens(value[:8192], ";")):
        text = item.strip()
        method, eq, rest = text.partition("=")
        if not eq or " " in method.strip():
            if index == 0:
                continue  # authserv-id (absent in Microsoft's form)
            method = ""
        key = method.strip().lower().split("/", 1)[0]
        result = rest.split(None, 1)[0].split("(", 1)[0].strip().lower() if rest.strip() else ""
        if key in _METHODS and result and key not in verdicts:
            verdicts[key] = result
        sender_ip = sender_ip or _sender_ip(text)
    return verdicts, sender_ip


def _sender_ip(text: str) -> str | None:
    marker = text.find("sender IP is ")
    if marker >= 0:
        token = text[marker + 13 :].split(")", 1)[0].split(None, 1)
        return normalize_ip(token[0]) if token else None
    marker = text.find("smtp.remote-ip=")
    if marker >= 0:
        token = text[marker + 15 :].split(None, 1)
        return normalize_ip(token[0].strip(";")) if token else None
    return None


def parse_received_spf(value: str) -> tuple[str | None, str | None]:
    """Return (result, client-ip) of a Received-SPF header."""
    words = value.split(None, 1)
    result = words[0].lower().rstrip(";") if words else None
    client_ip = None
    marker = value.find("client-ip=")
    if marker >= 0:
        token = value[marker + 10 :].split(";", 1)[0].split(None, 1)
        client_ip = normalize_ip(token[0]) if token else None
    return result, client_ip


def authentication_findings(ar_values: list[str], spf_values: list[str]) -> AuthFindings:
    """Combine the topmost Authentication-Results and Received-SPF headers."""
    verdicts: dict[str, str] = {}
    sender_ip = None
    if ar_values:
        verdicts, sender_ip = parse_authentication_results(ar_values[0])
    first = _split_outside_parens(ar_values[0][:8192], ";")[0].strip() if ar_values else ""
    authserv_id = first.split(None, 1)[0].lower() if first and "=" not in first else None
    spf_result, client_ip = parse_received_spf(spf_values[0]) if spf_values else (None, None)
    if "spf" not in verdicts and spf_result and not ar_values:
        verdicts["spf"] = spf_result
    auth = Auth(spf=verdicts.get("spf"), dkim=verdicts.get("dkim"), dmarc=verdicts.get("dmarc"))
    return AuthFindings(
        auth=auth,
        sender_ip=sender_ip,
        spf_client_ip=client_ip,
        authserv_id=authserv_id,
        present=bool(ar_values),
    )
