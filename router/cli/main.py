"""The ``ticket-router`` command line (also ``python -m router``)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from router import __version__
from router.cli import logs
from router.core.errors import SettingsError
from router.service.settings import Settings, default_config_path

if TYPE_CHECKING:
    from _typeshed import SupportsWrite


def _serve(args: argparse.Namespace) -> int:
    from router.cli.serve import serve

    settings = Settings.from_env()
    asyncio.run(serve(settings))
    return 0


def _coverage(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    import orjson

    from router.config.load import ConfigError, load_config
    from router.core.coverage import coverage_report, render_coverage

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        tz = ZoneInfo(args.tz)
    except (ZoneInfoNotFoundError, ValueError):
        print(f"--tz: unknown IANA time zone {args.tz!r}", file=sys.stderr)
        return 2
    week = args.week or datetime.now(UTC).astimezone(tz).date()
    report = coverage_report(config, week - timedelta(days=week.weekday()), tz)
    if args.json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(render_coverage(report))
    # Exit status 1 when there is a gap, so a CI job can refuse a config with one.
    return 1 if report["gaps"] else 0


class _Parser(argparse.ArgumentParser):
    """argparse's parser, but a failed write of its help or usage raises, as every other
    write of the command does: argparse drops the error itself, so a closed pipe made
    ``--help`` exit 0 or 141 depending on whether stdout was buffered."""

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if message:
            (file or sys.stderr).write(message)


def build_parser(*, serve_only: bool = False) -> argparse.ArgumentParser:
    """The argument parser with every subcommand (``serve_only``: with ``serve`` alone).

    ``ticket-router serve`` parses with ``serve_only``: the other subcommands' modules
    import NumPy, the model and the clients, a second or more before the HTTP port opens
    that ``serve`` spends after it instead. ``serve``'s own parsing is the same either way.
    """
    # Typed as argparse's: the subcommands' parsers (of this class too) are built on it.
    parser: argparse.ArgumentParser = _Parser(
        prog="ticket-router",
        description="Route support tickets to in-house and outsourced agent pools, 24/7.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve = sub.add_parser(
        "serve",
        help="run the consumer and the HTTP API (configured by ROUTER_* environment variables)",
    )
    serve.set_defaults(func=_serve)
    if serve_only:
        return parser
    coverage = sub.add_parser(
        "coverage",
        help="for each hour of the week, which languages x tiers have an open pool "
        "(exit 1 on a gap)",
    )
    coverage.add_argument(
        "--config",
        type=Path,
        default=default_config_path(),
        help="routing config file (default: the shipped example)",
    )
    coverage.add_argument("--tz", default="UTC", help="show hours in this IANA zone")
    coverage.add_argument(
        "--week",
        type=date.fromisoformat,
        default=None,
        help="a date in the week to show (default: this week); DST matters",
    )
    coverage.add_argument("--json", action="store_true", help="print the JSON report")
    coverage.set_defaults(func=_coverage)
    from classifiers import commands as classifier_commands
    from router.cli import backup as backup_commands
    from router.cli import simulate as simulate_commands
    from router.cli import tokens as token_commands

    classifier_commands.register(sub)
    token_commands.register(sub)
    simulate_commands.register(sub)
    backup_commands.register(sub)
    return parser


# What a shell reports for a process that SIGPIPE ended (128 + 13), as ``yes | head -1`` does.
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; a wrong ``ROUTER_*`` value is one line, exit 2.

    A reader that closes the pipe early (``ticket-router coverage | head -1``) ends the
    command quietly with exit 141, no traceback.
    """
    try:
        try:
            return _main(argv)
        finally:
            # Flush here rather than at interpreter exit, where a closed pipe cannot be caught.
            sys.stdout.flush()
    except BrokenPipeError:
        # The Python documentation's recipe (signal module, "Note on SIGPIPE"): point
        # stdout at devnull so that the interpreter's own last flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    try:
        settings = Settings.from_env()
        logs.configure(settings.log_level.upper(), settings.log_format)
        words = sys.argv[1:] if argv is None else list(argv)
        args = build_parser(serve_only=words[:1] == ["serve"]).parse_args(argv)
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except SettingsError as exc:
        # A mistake in the deployment, not a bug: no traceback. Every command builds its
        # settings from the same environment, so this catches them all.
        for line in str(exc).splitlines():
            print(f"ticket-router: {line}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    raise SystemExit(main())
