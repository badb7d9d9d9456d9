"""``ticket-router token create | list | revoke``: manage bearer tokens from a shell.

Talks to the Redis at ``ROUTER_REDIS_URL`` under ``ROUTER_REDIS_PREFIX``. Every
create and revoke is written to the audit log with the OS user as the actor.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TextIO

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from queues.audit_log import RedisAuditLog
from queues.token_store import RedisTokenStore
from router.core.errors import TransientError
from router.core.tokens import LastAdminTokenError, Scope, ScopeError, TokenInfo, format_scopes
from router.http.agent_requests import valid_agent
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
        type=_scope,
        metavar="SCOPE",
        help="ingest, admin or agent:<pool id>; repeat for several",
    )
    create.add_argument(
        "--expires-in", type=_days, metavar="DAYS", help="expire after DAYS days (default: never)"
    )
    create.add_argument(
        "--agent",
        type=_agent,
        metavar="AGENT_ID",
        help="bind the token to one agent id: it works leases only as that agent",
    )
    create.set_defaults(func=_runner(_create))

    listing = actions.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    listing.set_defaults(func=_runner(_list))

    revoke = actions.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id", metavar="ID")
    revoke.set_defaults(func=_runner(_revoke))


def _scope(text: str) -> Scope:
    try:
        return Scope.parse(text)
    except ScopeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _agent(text: str) -> str:
    if not valid_agent(text):
        raise argparse.ArgumentTypeError("agent ids are 1-128 letters, digits and _.@:+-")
    return text


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not 0 < days <= 36_500:
        raise argparse.ArgumentTypeError("days must be more than 0 and at most 36500")
    return days


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
            client = aioredis.Redis.from_url(settings.redis_url, decode_responses=False)
            try:
                prefix = settings.names.redis_prefix
                return await command(
                    RedisTokenStore(client, prefix), RedisAuditLog(client, prefix), args
                )
            finally:
                await client.aclose()

        try:
            return asyncio.run(main())
        except (TransientError, RedisError) as exc:
            print(f"ticket-router token: cannot reach Redis: {exc}", file=sys.stderr)
            return EXIT_FAILED

    return run


async def _create(store: RedisTokenStore, audit: RedisAuditLog, args: argparse.Namespace) -> int:
    expires_at = None
    if args.expires_in is not None:
        expires_at = store.now() + timedelta(days=args.expires_in)
    actor = _actor()
    plaintext, info = await store.create(
        args.name, args.scopes, expires_at, created_by=actor, agent=args.agent
    )
    await audit.record(
        actor,
        "token.create",
        info.token_id,
        {
            "name": info.name,
            "scopes": format_scopes(info.scopes),
            "expires_at": _when(expires_at),
            "agent": info.agent,
        },
    )
    # The plaintext alone on stdout, so `TOKEN=$(ticket-router token create ...)` works.
    print(plaintext)
    print(
        f"created token {info.token_id} ({info.name}; {format_scopes(info.scopes)}; "
        f"expires {_when(expires_at) or 'never'}). It is shown only this once: store it now.",
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
