"""``ticket-router token ...`` end to end against a real Redis."""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from queues.audit_log import RedisAuditLog
from queues.token_store import RedisTokenStore
from router.cli import tokens as token_commands
from router.core.tokens import Scope, split_token
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.integration


@pytest.fixture
def prefix(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A Redis prefix of this test's own, set for the command; its keys removed after."""
    value = f"test:{uuid.uuid4().hex}:"
    monkeypatch.setenv("ROUTER_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("ROUTER_REDIS_PREFIX", value)
    yield value
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{value}*"))
    if keys:
        client.delete(*keys)
    client.close()


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ticket-router")
    token_commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def authenticate(prefix: str, plaintext: str) -> frozenset[Scope] | None:
    async def go() -> frozenset[Scope] | None:
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            principal = await RedisTokenStore(client, prefix).authenticate(plaintext)
        finally:
            await client.aclose()
        return None if principal is None else principal.scopes

    return asyncio.run(go())


def audit_actions(prefix: str) -> list[tuple[str, str]]:
    """(action, target) of every audit record, oldest first."""

    async def go() -> list[dict[str, Any]]:
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            return await RedisAuditLog(client, prefix).recent(100)
        finally:
            await client.aclose()

    return [(r["action"], r["target"]) for r in reversed(asyncio.run(go()))]


def test_create_list_revoke(prefix: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        "token", "create", "--name", "vendor-a", "--scope", "agent:emea", "--scope", "ingest",
        "--expires-in", "30",
    )  # fmt: skip
    assert code == 0
    out, err = capsys.readouterr()
    plaintext = out.strip()
    token_id, secret = split_token(plaintext)
    assert "shown only this once" in err
    assert authenticate(prefix, plaintext) == frozenset({Scope("agent", "emea"), Scope("ingest")})

    assert run("token", "list", "--json") == 0
    out, _ = capsys.readouterr()
    [row] = json.loads(out)
    assert (row["id"], row["name"], row["scopes"], row["status"]) == (
        token_id,
        "vendor-a",
        "agent:emea ingest",
        "active",
    )
    assert row["expires_at"] is not None
    assert secret not in out

    assert run("token", "list") == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[0].split() == [
        "ID",
        "NAME",
        "SCOPES",
        "STATUS",
        "CREATED_AT",
        "EXPIRES_AT",
    ]
    assert token_id in out.splitlines()[1]

    assert run("token", "revoke", token_id) == 0
    assert capsys.readouterr().out.strip() == f"revoked {token_id}"
    assert authenticate(prefix, plaintext) is None
    assert run("token", "revoke", token_id) == 1
    assert "no active token" in capsys.readouterr().err
    assert audit_actions(prefix) == [("token.create", token_id), ("token.revoke", token_id)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--name", "x", "--scope", "pool:emea"], "unknown scope 'pool:emea'"),
        (["--name", "x", "--scope", "agent:"], "needs a pool id"),
        (["--name", "x"], "--scope"),
        (["--name", "x", "--scope", "ingest", "--expires-in", "0"], "more than 0"),
    ],
)
def test_create_refuses_bad_arguments(
    prefix: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run("token", "create", *argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_unreachable_redis_is_a_clear_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROUTER_REDIS_URL", "redis://127.0.0.1:1/0")
    assert run("token", "list") == 1
    assert "cannot reach Redis" in capsys.readouterr().err
