"""`triage analyze`: parse and score one message without storing it, and print the analysis JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from service.analysis.inputs import ReportInput, SmsInput
from service.analysis.pipeline import INPUT_ERRORS
from service.config import get_settings
from service.db import utcnow
from service.errors import ProblemError
from service.ingest.requests import submission_from_body
from service.runtime import build_analyzer

HEADER_START = (
    b"received:",
    b"from:",
    b"return-path:",
    b"delivered-to:",
    b"message-id:",
    b"date:",
    b"subject:",
    b"x-",
    b"mime-version:",
    b"to:",
    b"authentication-results:",
    b"arc-",
    b"dkim-signature:",
)


def register(commands: Any) -> None:
    parser = commands.add_parser("analyze", help="analyse one message and print the analysis JSON")
    parser.add_argument("file", help="an .eml file, a text file (SMS), a JSON report body, or - for stdin")
    parser.add_argument("--channel", choices=("sms", "email"), help="default: guessed from the content")
    parser.add_argument("--sender", help="the SMS sender (number, short code or name)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    try:
        report = report_input(data, channel=args.channel, sender=args.sender, name=args.file)
        analysis = build_analyzer(get_settings()).analyze(report, now=utcnow())
    except ProblemError as exc:
        print(f"triage analyze: {exc.detail}", file=sys.stderr)
        return 2
    except INPUT_ERRORS as exc:
        print(f"triage analyze: the message could not be analysed: {exc}", file=sys.stderr)
        return 2
    print(
        json.dumps({"id": None, **analysis, "queued": False, "case_id": None}, ensure_ascii=False, indent=2)
    )
    return 0


def report_input(data: bytes, *, channel: str | None, sender: str | None, name: str) -> ReportInput:
    """Decide what the bytes are: a JSON report body, an email, or the text of an SMS."""
    if channel is None and data.lstrip()[:1] == b"{":
        return submission_from_body(data, content_type="application/json", idempotency_key=None).report
    if channel == "email" or (channel is None and _looks_like_email(data, name)):
        return ReportInput.for_email(data)
    if not sender:
        raise ProblemError("an SMS needs its sender: pass --sender (a number, short code or name)")
    return ReportInput.for_sms(SmsInput(sender=sender, text=data.decode("utf-8", "replace")))


def _looks_like_email(data: bytes, name: str) -> bool:
    if name.lower().endswith(".eml"):
        return True
    return data.lstrip()[:40].lower().startswith(HEADER_START)
