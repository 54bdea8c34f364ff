"""``provisio token create|list|revoke`` and the admin token ``provisio run`` creates on first start.

    provisio token create --user U --scope resourceInventory:read [--scope ...] [--role R] [--expires 30d]
    provisio token list
    provisio token revoke TOKEN_ID

``create`` prints the key once (stdout, its own line, so a script can take it); nothing stores it but the
HMAC. The CLI acts as ``cli:<os user>`` in the audit trail.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from common import clock, request_context
from common.uow import UnitOfWork
from server.auth import tokens
from server.auth.models import ApiToken
from server.settings import Settings

ADMIN_TOKEN_FILE = "admin-token"
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = commands.add_parser("token", help="API tokens: create (key shown once), list, revoke")
    sub = token.add_subparsers(dest="token_command", required=True, metavar="TOKEN_COMMAND")
    create = sub.add_parser("create", help="create a token and print its key (once)")
    create.add_argument("--user", required=True, help="the identity the token authenticates as")
    create.add_argument("--scope", action="append", default=[], help="a scope (repeat, or comma-separate)")
    create.add_argument("--role", help="a role from settings: order-system, noc, operator, admin")
    create.add_argument("--expires", help="a duration (90d, 12h, 30m) or an ISO 8601 date-time; default never")
    create.add_argument("--description", help="what the token is for")
    sub.add_parser("list", help="list tokens (never their keys)")
    revoke = sub.add_parser("revoke", help="revoke a token")
    revoke.add_argument("token_id")
    token.set_defaults(handler=cmd_token)


def parse_expiry(text: str | None, now: datetime) -> datetime | None:
    if not text:
        return None
    match = _DURATION.match(text.strip())
    if match:
        return now + timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    try:
        return clock.parse_utc(text.strip())
    except ValueError:
        raise SystemExit(
            f"provisio token create: --expires {text!r}: use 90d, 12h, 30m or an ISO 8601 date-time"
        ) from None


def _uow(settings: Settings) -> UnitOfWork:
    from server.db import make_engine, make_session_factory

    return UnitOfWork(make_session_factory(make_engine(settings.database_url)))


def cmd_token(args: argparse.Namespace) -> int:
    from common.errors import ProvisioError
    from server.cli import announce_database, require_database

    settings = Settings.from_env()
    require_database(settings, "token")
    announce_database(settings)
    secret = tokens.server_secret(settings.data_dir, settings.auth.secret_key)
    with request_context.bind(actor=f"cli:{getpass.getuser()}"[: request_context.IDENTITY_MAX_LENGTH]):
        try:
            if args.token_command == "create":
                scopes = [scope for item in args.scope for scope in item.split(",")]
                with _uow(settings) as tx:
                    token, key = tokens.create_token(
                        tx.session,
                        secret,
                        subject=args.user,
                        scopes=scopes,
                        role=args.role,
                        roles=settings.auth.roles,
                        expires_at=parse_expiry(args.expires, clock.now()),
                        description=args.description,
                    )
                    tx.commit()
                print(f"token {token.id} for {token.subject}: {' '.join(token.scopes)}")
                print("key (shown once; send it as 'Authorization: Token <key>' or 'X-API-Key: <key>'):")
                print(key)
            elif args.token_command == "list":
                with _uow(settings) as tx:
                    rows = tx.session.execute(select(ApiToken).order_by(ApiToken.created_at)).scalars().all()
                    for row in rows:
                        state = "revoked" if row.revoked_at else "expired" if _expired(row) else "active"
                        expires = clock.isoformat(row.expires_at) if row.expires_at else "never"
                        print(f"{row.id}  {state:7}  {row.subject}  expires {expires}  {' '.join(row.scopes)}")
            elif args.token_command == "revoke":
                with _uow(settings) as tx:
                    tokens.revoke_token(tx.session, args.token_id)
                    tx.commit()
                ttl = settings.auth.token_cache_ttl
                print(f"token {args.token_id} revoked (every API process refuses it within {ttl:g} s)")
        except ProvisioError as error:
            raise SystemExit(f"provisio token {args.token_command}: {error.message}") from None
    return 0


def _expired(row: ApiToken) -> bool:
    return row.expires_at is not None and row.expires_at <= clock.now()


def ensure_admin_token(settings: Settings) -> tuple[str | None, Path]:
    """The first start of ``provisio run`` creates an admin token and keeps its key in
    ``<data dir>/admin-token`` (mode 0600); returns (key, path) then, and (None, path) on later starts while
    that token is still valid. A revoked or expired one is replaced."""
    path = settings.data_dir / ADMIN_TOKEN_FILE
    secret = tokens.server_secret(settings.data_dir, settings.auth.secret_key)
    with _uow(settings) as tx:
        if path.is_file():
            known = tokens.lookup(tx.session, tokens.key_hash(secret, path.read_text(encoding="ascii").strip()))
            if known is not None and not known.revoked and not (known.expires_at and known.expires_at <= clock.now()):
                return None, path
        with request_context.bind(actor="provisio run"):
            _token, key = tokens.create_token(
                tx.session, secret, subject="admin", role="admin", roles=settings.auth.roles,
                description="created by the first `provisio run`",
            )  # fmt: skip
        tx.commit()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    os.chmod(temporary, 0o600)
    temporary.replace(path)
    return key, path
