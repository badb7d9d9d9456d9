"""A new token through ``POST /v1/admin/tokens`` and through ``ticket-router token
create``: the same refusals in the same words, the same audit record (the running
service and the command line on one real Redis prefix)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientSession

from router.cli import tokens as token_commands
from router.config.load import load_config
from router.service.settings import Names
from tests.conftest import EXAMPLE_CONFIG, REDIS_URL
from tests.integration.conftest import RunningService

pytestmark = pytest.mark.integration

POOL = load_config(EXAMPLE_CONFIG).pool_ids[0]
EXPIRY = (
    "must be a whole number of days, more than 0 and at most 3650 "
    "(leave it out for a token that never expires)"
)
OPTION = {
    "name": "--name",
    "scopes": "--scope",
    "expires_in_days": "--expires-in",
    "agent": "--agent",
}

# (body of the API request, arguments of the command, field at fault, message). The
# shell passes every value as text, so a JSON string "7" is the text '"7"' there (7
# alone is a number in both, and accepted).
REFUSED: list[tuple[dict[str, Any], list[str], str, str]] = [
    ({"expires_in_days": True}, ["--expires-in", "true"], "expires_in_days", EXPIRY),
    ({"expires_in_days": 0}, ["--expires-in", "0"], "expires_in_days", EXPIRY),
    ({"expires_in_days": 10**30}, ["--expires-in", str(10**30)], "expires_in_days", EXPIRY),
    ({"expires_in_days": -1}, ["--expires-in", "-1"], "expires_in_days", EXPIRY),
    ({"expires_in_days": "7"}, ["--expires-in", '"7"'], "expires_in_days", EXPIRY),
    ({"expires_in_days": 3651}, ["--expires-in", "3651"], "expires_in_days", EXPIRY),
    ({"expires_in_days": 7.5}, ["--expires-in", "7.5"], "expires_in_days", EXPIRY),
    (
        {"scopes": ["root"]},
        ["--scope", "root"],
        "scopes",
        "unknown scope 'root': expected 'ingest', 'admin', 'viewer' or 'agent:<pool id>'",
    ),
    (
        {"scopes": ["agent:"]},
        ["--scope", "agent:"],
        "scopes",
        "scope 'agent:' needs a pool id, e.g. 'agent:emea-tier1'",
    ),
    (
        {"agent": "ana"},
        ["--agent", "ana"],
        "agent",
        "only a token with an agent:<pool> scope acts as an agent",
    ),
    ({"name": "\u001f"}, ["--name", "\u001f"], "name", "must have a visible character"),
]


def _command(*argv: str) -> int:
    """``ticket-router token ...`` as the console script runs it."""
    parser = argparse.ArgumentParser(prog="ticket-router")
    token_commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["token", *argv])
    code: int = args.func(args)
    return code


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, names: Names) -> None:
    """The command line pointed at the service's Redis prefix."""
    monkeypatch.setenv("ROUTER_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("ROUTER_REDIS_PREFIX", names.redis_prefix)


async def test_the_api_and_the_command_line_refuse_alike(
    service: RunningService,
    admin_http: ClientSession,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api: dict[str, tuple[int, str, str]] = {}
    cli: dict[str, tuple[int, str]] = {}
    expected_api: dict[str, tuple[int, str, str]] = {}
    expected_cli: dict[str, tuple[int, str]] = {}
    for body, argv, field, message in REFUSED:
        case = f"{body!r}"
        fields = {"name": "x", "scopes": ["ingest"], **body}
        async with admin_http.post(f"{service.url}/v1/admin/tokens", json=fields) as r:
            error = (await r.json()).get("error", {})  # none when it was created
            api[case] = (r.status, error.get("field"), error.get("message"))
        expected_api[case] = (400, field, message)
        given = dict(zip(argv[::2], argv[1::2], strict=True))
        args = {"--name": "x", "--scope": "ingest", **given}
        capsys.readouterr()
        try:  # in a thread: a command that went on to create would run its own loop
            code = await asyncio.to_thread(
                _command, "create", *(part for pair in args.items() for part in pair)
            )
        except SystemExit as exit_info:  # argparse's way out of a usage error
            code = int(str(exit_info.code))
        cli[case] = (code, capsys.readouterr().err.splitlines()[-1])
        expected_cli[case] = (2, f"ticket-router token create: error: {OPTION[field]}: {message}")
    assert api == expected_api
    assert cli == expected_cli
    async with admin_http.get(f"{service.url}/v1/admin/tokens") as r:
        listed = [t["name"] for t in (await r.json())["tokens"]]
    assert "x" not in listed  # nothing was created by either


async def test_the_api_and_the_command_line_audit_the_same_record(
    service: RunningService,
    admin_http: ClientSession,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    request = {
        "name": "desk ana",
        "scopes": [f"agent:{POOL}"],
        "expires_in_days": 30,
        "agent": "ana",
    }
    async with admin_http.post(f"{service.url}/v1/admin/tokens", json=request) as r:
        assert r.status == 201
        by_api = (await r.json())["id"]
    argv = ["--name", "desk ana", "--scope", f"agent:{POOL}", "--expires-in", "30"]
    code = await asyncio.to_thread(_command, "create", *argv, "--agent", "ana")
    assert code == 0
    by_cli = capsys.readouterr().out.strip().split("_")[1]
    async with admin_http.get(f"{service.url}/v1/admin/audit?n=2") as r:
        records = (await r.json())["records"]
    async with admin_http.get(f"{service.url}/v1/admin/tokens") as r:
        tokens = {t["id"]: t for t in (await r.json())["tokens"]}

    assert [(rec["action"], rec["target"]) for rec in records] == [
        ("token.create", by_cli),
        ("token.create", by_api),
    ]
    cli_record, api_record = records
    assert cli_record["actor"].startswith("cli")
    assert api_record["actor"].startswith("token:")
    for record, token_id in ((cli_record, by_cli), (api_record, by_api)):
        token = tokens[token_id]
        assert record["details"] == {
            "name": "desk ana",
            "scopes": f"agent:{POOL}",
            "expires_at": token["expires_at"],
            "agent": "ana",
        }
        lifetime = datetime.fromisoformat(token["expires_at"]) - datetime.fromisoformat(
            token["created_at"]
        )
        assert timedelta(days=30) - timedelta(seconds=5) < lifetime <= timedelta(days=30)
        assert (token["name"], token["scopes"], token["agent"]) == (
            "desk ana",
            [f"agent:{POOL}"],
            "ana",
        )
