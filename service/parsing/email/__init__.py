"""Email analysis: headers, MIME body, relay chain, trust, authentication results and anomalies.

Public surface::

    parse_email(raw, *, limits=EmailLimits(), trust=TrustConfig()) -> ParsedEmail

Errors: `EmailParseError(ValueError)` only when the input is not an email at all; every other
problem is recorded in `ParsedEmail.defects`.
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
