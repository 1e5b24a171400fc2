"""`triage`: the command line of the service (see the README for each command)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from service.cli import admin, analyze, serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="triage", description="Triage of reported threatening SMS and emails."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve.register(commands)
    analyze.register(commands)
    admin.register(commands)
    rules = commands.add_parser("rules", help="validate and test a rules folder")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    check = rules_commands.add_parser("check", help="validate every rule and run its tests", add_help=False)
    check.set_defaults(handler=_rules_check)
    return parser


def _rules_check(args: argparse.Namespace, extra: list[str]) -> int:
    from service.scoring.check import rules_check_main

    return rules_check_main(extra)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `triage` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # `rules check` hands its own arguments to the rules checker untouched.
    if argv[:2] == ["rules", "check"]:
        return _rules_check(argparse.Namespace(), argv[2:])
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
