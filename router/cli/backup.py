"""``ticket-router backup --out FILE`` and ``ticket-router restore --in FILE [--replace]``.

Copy every Redis key of ``ROUTER_REDIS_PREFIX`` (tokens, config versions, audit log,
ticket states and assignments, leases, backlogs) at ``ROUTER_REDIS_URL`` to a file and
back; the file format is described in :mod:`queues.backup`. For a consistent copy stop
the service first: SCAN does not see one instant. Exit 0 when done, 1 on a failure
(Redis unreachable, a refused or corrupted file, a non-empty prefix without
``--replace``), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # redis and the adapter load only when a command runs
    import redis.asyncio as aioredis

    from queues.backup import Progress

# Runs with the open client and the prefix; returns the exit code.
Command = Callable[["aioredis.Redis", str], Awaitable[int]]

EXIT_OK = 0
EXIT_FAILED = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``backup`` and ``restore`` commands to the ``ticket-router`` parser."""
    backup = subparsers.add_parser(
        "backup",
        help="copy every Redis key of ROUTER_REDIS_PREFIX to a file (stop the service first)",
    )
    backup.add_argument("--out", type=Path, required=True, metavar="FILE", help="file to write")
    _progress_option(backup)
    backup.set_defaults(func=_backup)

    restore = subparsers.add_parser(
        "restore",
        help="write the keys of a backup file back to Redis (refused into a non-empty prefix)",
    )
    restore.add_argument(
        "--in", dest="source", type=Path, required=True, metavar="FILE", help="file to read"
    )
    restore.add_argument(
        "--replace",
        action="store_true",
        help="restore even though keys of the prefix exist, overwriting those in the file",
    )
    _progress_option(restore)
    restore.set_defaults(func=_restore)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress-every",
        type=_positive,
        default=10_000,
        metavar="N",
        help="a progress line on stderr every N keys (default 10000)",
    )


def _progress(verb: str) -> Progress:
    def show(done: int, total: int) -> None:
        print(f"{verb} {done}/{total} keys", file=sys.stderr, flush=True)

    return show


def _backup(args: argparse.Namespace) -> int:
    from queues import backup as store

    async def run(client: aioredis.Redis, prefix: str) -> int:
        written = await store.backup(
            client, prefix, args.out, _progress("backed up"), args.progress_every
        )
        print(f"backed up {written} keys of prefix {prefix!r} to {args.out}")
        return EXIT_OK

    return _with_redis("backup", run)


def _restore(args: argparse.Namespace) -> int:
    from queues import backup as store

    async def run(client: aioredis.Redis, prefix: str) -> int:
        result = await store.restore(
            client,
            prefix,
            args.source,
            replace=args.replace,
            progress=_progress("restored"),
            every=args.progress_every,
        )
        kept = (
            f"; {result.existed_before} keys existed before (those not in the file were kept)"
            if result.existed_before
            else ""
        )
        print(f"restored {result.restored} keys of prefix {prefix!r} from {args.source}{kept}")
        return EXIT_OK

    return _with_redis("restore", run)


def _with_redis(command: str, run: Command) -> int:
    """Open Redis, run ``run(client, prefix)``, close it; map failures to exit 1."""
    import asyncio

    from redis.exceptions import RedisError

    from queues.backup import BackupError
    from router.service.redis_wiring import open_redis
    from router.service.settings import Settings

    settings = Settings.from_env()

    async def main() -> int:
        async with open_redis(settings) as client:
            return await run(client, settings.names.redis_prefix)

    try:
        return asyncio.run(main())
    except BackupError as exc:
        print(f"ticket-router {command}: {exc}", file=sys.stderr)
    except (RedisError, OSError) as exc:
        print(f"ticket-router {command}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return EXIT_FAILED
