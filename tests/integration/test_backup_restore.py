"""``ticket-router backup`` and ``restore`` against the shared Redis, with the real service.

Every test uses its own prefix (the ``names`` fixture) and the ``redis_client`` fixture
deletes its keys afterwards; the commands run as a subprocess, as an operator runs them.
"""

from __future__ import annotations

import asyncio
import copy
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from aiohttp import ClientSession

from queues.backup import BackupFileError, PrefixNotEmpty, backup, restore
from router.http import appkeys as K
from router.service.settings import Names
from tests.conftest import REDIS_URL
from tests.integration.conftest import (
    RunningService,
    ServiceFactory,
    bearer,
    drain_pools,
    publish,
    wait_for,
)
from tests.tickets import make_tickets

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
N = 120
M = 30


async def _cli(prefix: str, *args: str) -> tuple[int, str, str]:
    """Run ``ticket-router ARGS`` on this test's prefix; exit code, stdout, stderr."""
    env = {**os.environ, "ROUTER_REDIS_URL": REDIS_URL, "ROUTER_REDIS_PREFIX": prefix}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "router",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def _value(client: aioredis.Redis, key: bytes) -> tuple[bytes, object, bool]:
    """A key's type, contents and whether it expires (DUMP payloads of equal hashes can
    differ: a restored hash may keep its fields in another order)."""
    raw = await client.type(key)
    kind = raw if isinstance(raw, bytes) else raw.encode()
    readers: dict[bytes, Any] = {
        b"string": client.get,
        b"hash": client.hgetall,
        b"list": lambda k: client.lrange(k, 0, -1),
        b"set": client.smembers,
        b"zset": lambda k: client.zrange(k, 0, -1, withscores=True),
        b"stream": client.xrange,
    }
    contents = await readers[kind](key)
    return kind, contents, await client.pttl(key) > 0


async def _snapshot(client: aioredis.Redis, prefix: str) -> dict[bytes, tuple[bytes, object, bool]]:
    """Every key of ``prefix`` with its type, contents and whether it expires."""
    keys = [bytes(k) async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
    return {k: await _value(client, k) for k in keys}


async def _wipe(client: aioredis.Redis, prefix: str) -> None:
    keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        await client.delete(*keys)


def _settled(service: RunningService, received: int) -> Any:
    async def check() -> bool:
        return (
            service.metric("router_tickets_received_total", {"transport": "amqp"}) >= received
            and service.metric("router_tickets_in_flight") == 0
        )

    return check


async def _get_json(session: ClientSession, url: str) -> tuple[int, Any]:
    async with session.get(url) as r:
        return r.status, await r.json()


async def test_backup_wipe_restore_keeps_tickets_tokens_config_and_audit(
    start_service: ServiceFactory,
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
    tokens: dict[str, str],
    tmp_path: Path,
) -> None:
    prefix = names.redis_prefix
    first = await start_service()
    pools = first.app[K.CONFIG].value.pool_ids
    channel = await amqp.channel()
    tickets = make_tickets(N, seed=41)
    await publish(channel, names, [orjson.dumps(t) for t in tickets])
    await wait_for(_settled(first, N), what=f"{N} tickets routed")
    routed = [a for per in (await drain_pools(channel, names, pools)).values() for a in per]
    assert sorted(a["ticket_id"] for a in routed) == sorted(t["id"] for t in tickets)

    async with ClientSession(headers=bearer(tokens["admin"])) as admin:
        status, current = await _get_json(admin, f"{first.url}/v1/config")
        assert status == 200 and current["number"] == 1
        changed = copy.deepcopy(current["config"])
        changed["pools"][0]["cost_per_ticket"] = 77.0
        async with admin.put(
            f"{first.url}/v1/config", data=orjson.dumps(changed), headers={"If-Match": "1"}
        ) as r:
            assert r.status == 200, await r.text()
            put = await r.json()
        assert put["number"] == 2
        status, audit_before = await _get_json(admin, f"{first.url}/v1/admin/audit")
        assert status == 200
        assert audit_before["records"][0]["action"] == "config.put"
    async with ClientSession(headers=bearer(tokens["ingest"])) as ingest:
        before = {
            t["id"]: await _get_json(ingest, f"{first.url}/v1/tickets/{t['id']}") for t in tickets
        }
    assert {status for status, _ in before.values()} == {200}
    await first.stop()

    snapshot = await _snapshot(redis_client, prefix)
    file = tmp_path / "redis.jsonl"
    code, out, err = await _cli(prefix, "backup", "--out", str(file), "--progress-every", "50")
    assert code == 0, err
    assert out == f"backed up {len(snapshot)} keys of prefix {prefix!r} to {file}\n"
    total = len(snapshot)
    assert err.splitlines() == [
        f"backed up {n}/{total} keys" for n in [*range(50, total, 50), total]
    ]
    header = orjson.loads(file.read_bytes().split(b"\n", 1)[0])
    assert (header["format"], header["version"], header["prefix"], header["keys"]) == (
        "ticket-router-redis-backup",
        1,
        prefix,
        len(snapshot),
    )

    await _wipe(redis_client, prefix)
    assert await _snapshot(redis_client, prefix) == {}
    code, out, err = await _cli(prefix, "restore", "--in", str(file))
    assert code == 0, err
    assert out == f"restored {len(snapshot)} keys of prefix {prefix!r} from {file}\n"
    assert await _snapshot(redis_client, prefix) == snapshot

    second = await start_service()
    # Every ticket re-sent is a duplicate: nothing new reaches a pool.
    await publish(channel, names, [orjson.dumps(t) for t in tickets])
    await wait_for(_settled(second, N), what=f"{N} re-sent tickets processed")
    assert second.metric("router_tickets_duplicate_total") == N
    assert {
        p: len(a) for p, a in (await drain_pools(channel, names, pools)).items()
    } == dict.fromkeys(pools, 0)

    async with ClientSession(headers=bearer(tokens["ingest"])) as ingest:
        after = {
            t["id"]: await _get_json(ingest, f"{second.url}/v1/tickets/{t['id']}") for t in tickets
        }
        assert after == before
        async with ingest.post(f"{second.url}/v1/tickets", data=orjson.dumps(tickets[0])) as r:
            assert r.status == 202
            assert (await r.json())["status"] == "duplicate"
    async with ClientSession(headers=bearer(tokens["admin"])) as admin:
        status, config = await _get_json(admin, f"{second.url}/v1/config")
        assert status == 200
        assert (config["number"], config["version"]) == (2, put["version"])
        assert second.app[K.CONFIG].value.version == put["version"]
        status, audit_after = await _get_json(admin, f"{second.url}/v1/admin/audit")
        assert status == 200
        assert audit_after["records"] == audit_before["records"]
    # Every token still authenticates: each reads a ticket its scope allows, and a token
    # not in the store is still refused.
    pool_of = {tid: body["assignment"]["pool_id"] for tid, (_, body) in before.items()}
    readable = {
        scope: next(
            (t for t, p in pool_of.items() if scope in ("admin", "ingest", f"agent:{p}")), None
        )
        for scope in tokens
    }
    statuses = {}
    for scope, token in [*tokens.items(), ("unknown", "tr_not_a_token")]:
        ticket_id = readable.get(scope) or tickets[0]["id"]
        async with (
            ClientSession(headers=bearer(token)) as session,
            session.get(f"{second.url}/v1/tickets/{ticket_id}") as r,
        ):
            statuses[scope] = r.status
    assert statuses == {
        **{scope: 200 if ticket_id else 403 for scope, ticket_id in readable.items()},
        "unknown": 401,
    }
    assert {s for s, t in readable.items() if t} >= {"admin", "ingest"}

    # New tickets are routed once each.
    fresh = make_tickets(M, seed=42)
    assert not {t["id"] for t in fresh} & {t["id"] for t in tickets}
    await publish(channel, names, [orjson.dumps(t) for t in fresh])
    await wait_for(_settled(second, N + M), what=f"{M} new tickets routed")
    routed = [a for per in (await drain_pools(channel, names, pools)).values() for a in per]
    assert Counter(a["ticket_id"] for a in routed) == Counter(t["id"] for t in fresh)
    assert second.metric("router_tickets_duplicate_total") == N + 1  # the one POST re-send


@pytest.fixture
async def backed_up(redis_client: aioredis.Redis, names: Names, tmp_path: Path) -> Path:
    """A backup file of four keys of this test's prefix (which keeps them)."""
    prefix = names.redis_prefix
    await redis_client.set(f"{prefix}plain", b"v1")
    await redis_client.set(f"{prefix}expiring", b"soon", px=600_000)
    await redis_client.hset(f"{prefix}t:x", mapping={"state": "assigned"})
    await redis_client.rpush(f"{prefix}recent", b"a", b"b")
    file = tmp_path / "b.jsonl"
    assert await backup(redis_client, prefix, file) == 4
    return file


async def test_restore_refuses_a_non_empty_prefix_unless_replace(
    redis_client: aioredis.Redis, names: Names, backed_up: Path
) -> None:
    prefix, file = names.redis_prefix, backed_up
    await redis_client.set(f"{prefix}plain", b"changed")

    with pytest.raises(PrefixNotEmpty, match="4 keys of the prefix"):
        await restore(redis_client, prefix, file)
    code, out, err = await _cli(prefix, "restore", "--in", str(file))
    assert (code, out) == (1, "")
    assert "4 keys of the prefix" in err and "--replace" in err
    assert await redis_client.get(f"{prefix}plain") == b"changed"

    code, out, err = await _cli(prefix, "restore", "--in", str(file), "--replace")
    assert code == 0, err
    assert out.startswith(f"restored 4 keys of prefix {prefix!r}")
    assert await redis_client.get(f"{prefix}plain") == b"v1"
    assert 0 < await redis_client.pttl(f"{prefix}expiring") <= 600_000
    assert await redis_client.pttl(f"{prefix}plain") == -1
    assert await redis_client.lrange(f"{prefix}recent", 0, -1) == [b"a", b"b"]


async def test_a_corrupted_or_truncated_file_is_refused_naming_the_line(
    redis_client: aioredis.Redis, names: Names, backed_up: Path, tmp_path: Path
) -> None:
    prefix = names.redis_prefix
    await _wipe(redis_client, prefix)
    lines = (await asyncio.to_thread(backed_up.read_bytes)).splitlines(keepends=True)
    assert len(lines) == 5

    corrupted = tmp_path / "corrupted.jsonl"
    corrupted.write_bytes(b"".join([*lines[:2], lines[2][:-20] + b"\n", *lines[3:]]))
    with pytest.raises(BackupFileError, match=r"^line 3: not JSON"):
        await restore(redis_client, prefix, corrupted)
    code, out, err = await _cli(prefix, "restore", "--in", str(corrupted))
    assert (code, out) == (1, "")
    assert err == "ticket-router restore: line 3: not JSON (record 2)\n"

    truncated = tmp_path / "truncated.jsonl"
    truncated.write_bytes(b"".join(lines[:4]))
    with pytest.raises(BackupFileError, match=r"^line 4: the file ends after 3 records"):
        await restore(redis_client, prefix, truncated)

    bad_payload = tmp_path / "bad.jsonl"
    record = orjson.loads(lines[1])
    record["dump"] = "not base64!"
    bad_payload.write_bytes(lines[0] + orjson.dumps(record) + b"\n" + b"".join(lines[2:]))
    with pytest.raises(BackupFileError, match=r"^line 2: 'dump' is not base64"):
        await restore(redis_client, prefix, bad_payload)

    # Nothing was written by any refused restore.
    assert await _snapshot(redis_client, prefix) == {}
    code, _, err = await _cli(prefix, "restore")
    assert code == 2 and "--in" in err
