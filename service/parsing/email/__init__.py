"""Email analysis: headers, MIME body, relay chain, trust, authentication results and anomalies.

Public surface::

    parse_email(raw, *, limits=EmailLimits(), trust=TrustConfig()) -> ParsedEmail

Errors: `EmailParseError(ValueError)` only when the input is not an email at all (empty, too large,
no header an email carries); every other problem is recorded in `ParsedEmail.defects` and the
analysis goes on, within the bounds of `EmailLimits`.

Where things come from:
- relays: every Received line, newest first, read as Apache SpamAssassin's Received parser reads
  it (received_rules.py), then the webmail originating-IP headers as the oldest hops (chain.py);
- trust: SpamAssassin's inference by default, or configured networks; provider profiles mark where
  the recipient's provider (Outlook, Gmail, Viettel, VNPT, FPT...) received the mail (trust.py);
- origin_ip: the deepest untrusted public hop; provider_ip: the IP that reached the recipient's
  provider; each comes with the rule that chose it;
- auth: the topmost Authentication-Results (RFC 8601, Microsoft's form included) or Received-SPF;
- anomalies: header contradictions and impersonation, from data tables (brands.yaml, freemail.txt).
"""

from service.parsing.email.addresses import Address
from service.parsing.email.auth_results import Auth
from service.parsing.email.limits import EmailLimits, EmailParseError
from service.parsing.email.mime import Attachment
from service.parsing.email.model import Anomaly, ParsedEmail, Relay
from service.parsing.email.parse import parse_email
from service.parsing.email.trust import TrustConfig

__all__ = [
    "Address",
    "Anomaly",
    "Attachment",
    "Auth",
    "EmailLimits",
    "EmailParseError",
    "ParsedEmail",
    "Relay",
    "TrustConfig",
    "parse_email",
]
