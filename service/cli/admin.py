"""`triage keys ...` and `triage users ...`: credentials, created from the shell of the server."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from service.auth.service import SCOPES, add_user, create_key, revoke_key
from service.config import get_settings
from service.db import Database
from service.runtime import build_database, migrate


def register(commands: Any) -> None:
    keys = commands.add_parser("keys", help="API keys for reporters").add_subparsers(
        dest="keys_command", required=True
    )
    create = keys.add_parser("create", help="create an API key and print it once")
    create.add_argument("--name", required=True, help="the reporting organisation, e.g. the operator")
    create.add_argument(
        "--scope",
        action="append",
        choices=SCOPES,
        dest="scopes",
        help="repeat for several; default reports:write",
    )
    create.set_defaults(handler=_create_key)
    revoke = keys.add_parser("revoke", help="revoke the key(s) with this prefix (the first 10 characters)")
    revoke.add_argument("prefix")
    revoke.set_defaults(handler=_revoke_key)

    users = commands.add_parser("users", help="dashboard users").add_subparsers(
        dest="users_command", required=True
    )
    add = users.add_parser("add", help="add a user; the password is read from stdin")
    add.add_argument("name")
    add.add_argument("--role", choices=("analyst", "admin"), required=True)
    add.set_defaults(handler=_add_user)


def _create_key(args: argparse.Namespace) -> int:
    db = _database()
    with db.session() as db_session:
        try:
            key = create_key(db_session=db_session, reporter_name=args.name, scopes=args.scopes)
        except ValueError as exc:
            print(f"triage: {exc}", file=sys.stderr)
            return 2
        db_session.commit()
    print(key)
    return 0


def _revoke_key(args: argparse.Namespace) -> int:
    db = _database()
    with db.session() as db_session:
        count = revoke_key(db_session=db_session, key_prefix=args.prefix)
        db_session.commit()
    print(f"revoked {count} key(s)")
    return 0 if count else 1


def _add_user(args: argparse.Namespace) -> int:
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    db = _database()
    with db.session() as db_session:
        try:
            add_user(db_session=db_session, name=args.name, role=args.role, password=password)
        except ValueError as exc:
            print(f"triage: {exc}", file=sys.stderr)
            return 2
        db_session.commit()
    print(f"user {args.name} added as {args.role}")
    return 0


def _database() -> Database:
    settings = get_settings()
    migrate(settings.effective_database_url)
    return build_database(settings)
