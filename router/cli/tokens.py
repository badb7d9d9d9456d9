"""``ticket-router token create | list | revoke``: manage bearer tokens from a shell.

Talks to the Redis at ``ROUTER_REDIS_URL`` under ``ROUTER_REDIS_PREFIX``. Every
create and revoke is written to the audit log with the OS user as the actor. A new
token is validated and audited by the same use case as ``POST /v1/admin/tokens``
(:mod:`router.service.token_creation`), so both refuse the same requests alike.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TextIO

import orjson
from redis.exceptions import RedisError

from queues.audit_log import RedisAuditLog
from queues.token_store import RedisTokenStore
from router.core.errors import InvalidInput, TransientError
from router.core.tokens import LastAdminTokenError, TokenInfo, format_scopes
from router.service import token_creation
from router.service.redis_wiring import open_redis
from router.service.settings import Settings

EXIT_OK = 0
EXIT_FAILED = 1

Command = Callable[[RedisTokenStore, RedisAuditLog, argparse.Namespace], Awaitable[int]]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``token`` command and its actions to the ``ticket-router`` parser."""
    token = subparsers.add_parser("token", help="create, list and revoke bearer tokens")
    actions = token.add_subparsers(dest="token_action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="create a token and print it (once)")
    create.add_argument("--name", required=True, help="who or what the token is for")
    create.add_argument(
        "--scope",
        dest="scopes",
        action="append",
        required=True,
        metavar="SCOPE",
        help="ingest, admin, viewer (read-only ops) or agent:<pool id>; repeat for several",
    )
    create.add_argument(
        "--expires-in",
        metavar="DAYS",
        help=f"expire after DAYS days, a whole number from 1 to "
        f"{token_creation.MAX_TOKEN_DAYS} (default: never)",
    )
    create.add_argument(
        "--agent",
        metavar="AGENT_ID",
        help="bind the token to one agent id: it works leases only as that agent",
    )
    create.set_defaults(func=_validated(create, _runner(_create)))

    listing = actions.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    listing.set_defaults(func=_runner(_list))

    revoke = actions.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id", metavar="ID")
    revoke.set_defaults(func=_runner(_revoke))


# The option that gives each field of a token request.
_OPTIONS = {
    "name": "--name",
    "scopes": "--scope",
    "expires_in_days": "--expires-in",
    "agent": "--agent",
}
# A whole number as the shell passes it; anything else goes to the validation as the text
# it is, to be refused there with the message the API gives (int() would also take
# "7_000", " 7" or other scripts' digits, and refuses past 4,300 digits).
_WHOLE = re.compile(r"-?[0-9]{1,30}")


def _token_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The options of ``token create`` as the fields of a token request."""
    fields: dict[str, Any] = {"name": args.name, "scopes": args.scopes}
    if args.expires_in is not None:
        text = args.expires_in
        fields["expires_in_days"] = int(text) if _WHOLE.fullmatch(text) else text
    if args.agent is not None:
        fields["agent"] = args.agent
    return fields


def _validated(
    parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], int]
) -> Callable[[argparse.Namespace], int]:
    """Validate the token request before Redis is reached: a refusal is a usage error
    (exit 2) naming the option, with the API's message."""

    def validated(args: argparse.Namespace) -> int:
        try:
            args.request = token_creation.token_request(_token_fields(args))
        except InvalidInput as exc:
            field = exc.field.split("[")[0]
            parser.error(f"{_OPTIONS.get(field, field)}: {exc.problem}")
        return run(args)

    return validated


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in some containers
        return "cli"


def _runner(command: Command) -> Callable[[argparse.Namespace], int]:
    """Wrap an async command: open Redis, run it, close Redis, map failures to exit codes."""

    def run(args: argparse.Namespace) -> int:
        settings = Settings.from_env()

        async def main() -> int:
            async with open_redis(settings) as client:
                prefix = settings.names.redis_prefix
                return await command(
                    RedisTokenStore(client, prefix), RedisAuditLog(client, prefix), args
                )

        try:
            return asyncio.run(main())
        except (TransientError, RedisError) as exc:
            print(f"ticket-router token: cannot reach Redis: {exc}", file=sys.stderr)
            return EXIT_FAILED

    return run


async def _create(store: RedisTokenStore, audit: RedisAuditLog, args: argparse.Namespace) -> int:
    plaintext, info = await token_creation.create_token(store, audit, args.request, _actor())
    # The plaintext alone on stdout, so `TOKEN=$(ticket-router token create ...)` works.
    print(plaintext)
    print(
        f"created token {info.token_id} ({info.name}; {format_scopes(info.scopes)}; "
        f"expires {_when(info.expires_at) or 'never'}). It is shown only this once: store it now.",
        file=sys.stderr,
    )
    return EXIT_OK


async def _list(store: RedisTokenStore, audit: RedisAuditLog, args: argparse.Namespace) -> int:
    infos = await store.list()
    now = store.now()
    if args.json:
        rows = [_row(info, now) for info in infos]
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _table(sys.stdout, [_row(info, now) for info in infos])
    return EXIT_OK


async def _revoke(store: RedisTokenStore, audit: RedisAuditLog, args: argparse.Namespace) -> int:
    try:
        revoked = await store.revoke(args.token_id)
    except LastAdminTokenError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not revoked:
        print(f"no active token with id {args.token_id!r}", file=sys.stderr)
        return EXIT_FAILED
    await audit.record(_actor(), "token.revoke", args.token_id, {})
    print(f"revoked {args.token_id}")
    return EXIT_OK


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _row(info: TokenInfo, now: datetime) -> dict[str, str | None]:
    return {
        "id": info.token_id,
        "name": info.name,
        "scopes": format_scopes(info.scopes),
        "status": info.status(now),
        "created_at": _when(info.created_at),
        "expires_at": _when(info.expires_at),
        "revoked_at": _when(info.revoked_at),
        "created_by": info.created_by,
        "agent": info.agent,
    }


def _table(out: TextIO, rows: list[dict[str, str | None]]) -> None:
    columns = ("id", "name", "scopes", "status", "created_at", "expires_at")
    cells = [[c.upper() for c in columns]] + [[row[c] or "-" for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        out.write("\n")
