"""The classifier subcommands run in this process, parsed as the CLI parses them."""

from __future__ import annotations

import argparse

from classifiers.commands import register


def run(*argv: str) -> int:
    """``ticket-router`` with the classifier subcommands; the command's exit code."""
    parser = argparse.ArgumentParser(prog="ticket-router")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code
