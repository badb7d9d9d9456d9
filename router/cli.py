"""The ``ticket-router`` command line (also ``python -m router``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from classifiers import commands as classifier_commands
from router import token_commands
from router.settings import Settings


def _serve(args: argparse.Namespace) -> int:
    from router.serve import serve

    settings = Settings.from_env()
    asyncio.run(serve(settings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ticket-router",
        description="Route support tickets to in-house and outsourced agent pools, 24/7.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve = sub.add_parser(
        "serve",
        help="run the consumer and the HTTP API (configured by ROUTER_* environment variables)",
    )
    serve.set_defaults(func=_serve)
    classifier_commands.register(sub)
    token_commands.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    logging.basicConfig(
        level=Settings.from_env().log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
