"""Back up and restore every Redis key of one prefix (``ticket-router backup | restore``).

The file is JSON lines, UTF-8, one object a line:

- line 1, the header: ``{"format": "ticket-router-redis-backup", "version": 1,
  "prefix": "tr:", "keys": 1234, "created_at": "2026-12-01T13:00:00+00:00"}``;
- then one record a key: ``{"key": <base64 of the key>, "ttl_ms": <int, 0 = no
  expiry>, "dump": <base64 of the DUMP payload>}``.

Keys are found with ``SCAN MATCH <prefix>* COUNT 1000`` and copied with ``DUMP`` and
``PTTL``; a restore writes them back with ``RESTORE key ttl payload [REPLACE]``. A DUMP
payload is in Redis' own serialization: it restores on the same or a newer Redis, not
on an older one. SCAN does not see one instant: keys written while it runs may or may
not be in the file, so for a consistent copy stop the service first (or copy a
persistence snapshot, see the README's "Backup and restore").

The file is written to a temporary name next to it and renamed when complete, so a
file under the final name is always whole; a restore reads it twice: first to check
every line (a corrupted or truncated file is refused before anything is written, the
error naming its line), then to write the keys in pipelines.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

FORMAT = "ticket-router-redis-backup"
VERSION = 1
SCAN_COUNT = 1000
# Keys per pipeline round trip for DUMP/PTTL and for RESTORE.
BATCH = 500

# Called with (keys done, keys in all) after every ``every`` keys and at the end.
Progress = Callable[[int, int], None]


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


class BackupFileError(BackupError):
    """The backup file is not a valid one; the message names the line."""


class PrefixNotEmpty(BackupError):
    """A restore without ``replace`` into a prefix that already has keys."""


@dataclass(frozen=True, slots=True)
class Header:
    """The first line of a backup file."""

    prefix: str
    keys: int
    created_at: str


@dataclass(frozen=True, slots=True)
class Record:
    """One key of a backup file: its name, remaining time to live and DUMP payload."""

    key: bytes
    ttl_ms: int
    dump: bytes


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What a restore did."""

    restored: int
    existed_before: int


async def _scan(client: aioredis.Redis, prefix: str) -> list[bytes]:
    # A set: SCAN may return a key more than once while the keyspace is rehashed.
    found = {bytes(k) async for k in client.scan_iter(match=f"{prefix}*", count=SCAN_COUNT)}
    return sorted(found)


def _ticker(progress: Progress | None, every: int, total: int) -> Callable[[int], None]:
    state = {"last": 0}

    def tick(done: int) -> None:
        if progress is None or done == state["last"]:
            return
        if done - state["last"] >= every or done == total:
            state["last"] = done
            progress(done, total)

    return tick


def _encode(record: Record) -> bytes:
    return orjson.dumps(
        {
            "key": base64.b64encode(record.key).decode(),
            "ttl_ms": record.ttl_ms,
            "dump": base64.b64encode(record.dump).decode(),
        }
    )


async def backup(
    client: aioredis.Redis,
    prefix: str,
    out: Path,
    progress: Progress | None = None,
    every: int = 10_000,
) -> int:
    """Copy every key of ``prefix`` to the file ``out``; return how many were written.

    A key that expires or is deleted between SCAN and DUMP is left out (the header
    counts the keys actually written).
    """
    if not prefix:
        raise BackupError("the Redis prefix is empty: that would copy the whole database")
    keys = await _scan(client, prefix)
    tick = _ticker(progress, every, len(keys))
    size = min(BATCH, every)  # so that a progress line comes every ``every`` keys
    written = 0
    # Records first into a spooled body (memory, then disk), since the header's count is
    # known only at the end; then header + body to a temporary file renamed onto ``out``.
    with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as body:
        for start in range(0, len(keys), size):
            chunk = keys[start : start + size]
            pipe = client.pipeline(transaction=False)
            for key in chunk:
                pipe.dump(key)
                pipe.pttl(key)
            replies = await pipe.execute()
            for key, dumped, pttl in zip(chunk, replies[0::2], replies[1::2], strict=True):
                if dumped is None or pttl == -2:  # gone since SCAN
                    continue
                body.write(_encode(Record(key, max(int(pttl), 0), bytes(dumped))) + b"\n")
                written += 1
            tick(start + len(chunk))
        header = {
            "format": FORMAT,
            "version": VERSION,
            "prefix": prefix,
            "keys": written,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        body.seek(0)
        _write_atomically(out, orjson.dumps(header) + b"\n", body)
    tick(len(keys))
    return written


def _write_atomically(out: Path, header: bytes, body: IO[bytes]) -> None:
    out = out.resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(header)
            while chunk := body.read(1024 * 1024):
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _field(obj: dict[str, Any], name: str, kind: type, line: int) -> Any:
    value = obj.get(name)
    # bool is an int in Python; a ttl of true is still not a number.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BackupFileError(f"line {line}: {name!r} missing or not a {kind.__name__}")
    return value


def _b64(text: str, name: str, line: int) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BackupFileError(f"line {line}: {name!r} is not base64") from None


def _parse_header(raw: bytes) -> Header:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BackupFileError("line 1: the header is not JSON") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise BackupFileError(f"line 1: not a {FORMAT} file")
    if obj.get("version") != VERSION:
        raise BackupFileError(
            f"line 1: format version {obj.get('version')!r}; this version reads {VERSION}"
        )
    keys = _field(obj, "keys", int, 1)
    return Header(_field(obj, "prefix", str, 1), keys, _field(obj, "created_at", str, 1))


def _parse_record(raw: bytes, line: int, prefix: str) -> Record:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BackupFileError(f"line {line}: not JSON (record {line - 1})") from None
    if not isinstance(obj, dict):
        raise BackupFileError(f"line {line}: not a JSON object (record {line - 1})")
    key = _b64(_field(obj, "key", str, line), "key", line)
    ttl = _field(obj, "ttl_ms", int, line)
    if ttl < 0:
        raise BackupFileError(f"line {line}: 'ttl_ms' is negative")
    if not key.startswith(prefix.encode()):
        raise BackupFileError(f"line {line}: key {key!r} is not under the prefix {prefix!r}")
    return Record(key, ttl, _b64(_field(obj, "dump", str, line), "dump", line))


def read_backup(path: Path) -> tuple[Header, Iterator[Record]]:
    """The header of the file at ``path`` and an iterator over its records.

    Raises :class:`BackupFileError` naming the line on the first invalid one, and when
    the file holds another number of records than its header says (a truncated copy).
    """
    f = path.open("rb")
    first = f.readline()
    if not first:
        f.close()
        raise BackupFileError("line 1: the file is empty")
    try:
        header = _parse_header(first)
    except BackupFileError:
        f.close()
        raise

    def records() -> Iterator[Record]:
        with f:
            line = 1
            for line, raw in enumerate(f, start=2):
                yield _parse_record(raw, line, header.prefix)
            if line - 1 != header.keys:
                raise BackupFileError(
                    f"line {line}: the file ends after {line - 1} records; "
                    f"its header says {header.keys} (truncated?)"
                )

    return header, records()


def check_backup(path: Path) -> Header:
    """Read the whole file at ``path``; its header if every line is valid, else raise."""
    header, records = read_backup(path)
    for _ in records:
        pass
    return header


async def count_keys(client: aioredis.Redis, prefix: str) -> int:
    """How many keys ``prefix`` has now."""
    return len(await _scan(client, prefix))


async def restore(
    client: aioredis.Redis,
    prefix: str,
    source: Path,
    replace: bool = False,
    progress: Progress | None = None,
    every: int = 10_000,
) -> RestoreResult:
    """Write every key of the backup file ``source`` back with its TTL.

    The whole file is checked first; it must have been made for ``prefix``. Without
    ``replace`` a prefix that has any key is refused (:class:`PrefixNotEmpty`); with it,
    keys in the file overwrite those of the same name (``RESTORE ... REPLACE``) and keys
    not in the file are left as they are.
    """
    header = check_backup(source)
    if header.prefix != prefix:
        raise BackupError(
            f"the file holds the prefix {header.prefix!r}, the service uses {prefix!r}; "
            "set ROUTER_REDIS_PREFIX (or ROUTER_NAME_SUFFIX) to restore it"
        )
    existing = await count_keys(client, prefix)
    if existing and not replace:
        raise PrefixNotEmpty(
            f"{existing} keys of the prefix {prefix!r} exist; stop the service and pass "
            "--replace to overwrite them, or delete them first"
        )
    tick = _ticker(progress, every, header.keys)
    done = 0
    _, records = read_backup(source)
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) == min(BATCH, every):
            done = await _restore_batch(client, batch, replace, done)
            tick(done)
            batch = []
    if batch:
        done = await _restore_batch(client, batch, replace, done)
    tick(done)
    return RestoreResult(done, existing)


async def _restore_batch(
    client: aioredis.Redis, batch: list[Record], replace: bool, done: int
) -> int:
    pipe = client.pipeline(transaction=False)
    for record in batch:
        pipe.restore(record.key, record.ttl_ms, record.dump, replace=replace)
    replies = await pipe.execute(raise_on_error=False)
    for record, reply in zip(batch, replies, strict=True):
        if isinstance(reply, ResponseError):
            raise BackupError(
                f"RESTORE of {record.key!r} failed after {done} keys: {reply} "
                "(BUSYKEY: the key exists, pass --replace; payload version: an older Redis)"
            )
        done += 1
    return done
