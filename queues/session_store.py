"""Browser sessions in Redis: one HASH a session, named by the SHA-256 of its id.

``<prefix>session:<sha256 of the session id>`` holds ``token_id``, ``csrf``,
``created_at`` and ``expires_at`` (UTC ISO 8601) and expires by itself at
``expires_at`` (``PEXPIREAT``): Redis drops ended sessions, nothing sweeps. The
cookie's value is never stored, so a copy of the data opens no session.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from router.core.errors import TransientError
from router.core.sessions import Session, session_digest

_FIELDS = ("token_id", "csrf", "created_at", "expires_at")


class RedisSessionStore:
    """:class:`router.service.ports.SessionStore` on a ``redis.asyncio.Redis``."""

    def __init__(self, redis: aioredis.Redis, prefix: str = "tr:") -> None:
        self._r = redis
        self._prefix = f"{prefix}session:"

    def key(self, session_id: str) -> str:
        """The Redis key of a session (its id hashed)."""
        return self._prefix + session_digest(session_id)

    async def put(self, session_id: str, session: Session) -> None:
        """Store ``session`` until its ``expires_at`` (one MULTI: the record never
        exists without its expiry)."""
        key = self.key(session_id)
        mapping: dict[FieldT, EncodableT] = {
            "token_id": session.token_id,
            "csrf": session.csrf,
            "created_at": session.created_at.astimezone(UTC).isoformat(),
            "expires_at": session.expires_at.astimezone(UTC).isoformat(),
        }
        expire_ms = int(session.expires_at.timestamp() * 1000)
        pipe = self._r.pipeline(transaction=True)
        pipe.delete(key)
        pipe.hset(key, mapping=mapping)
        pipe.pexpireat(key, expire_ms)
        await self._call(pipe.execute())

    async def get(self, session_id: str) -> Session | None:
        """The stored session, or None (unknown, expired, or a record we cannot read:
        fail closed)."""
        raw: dict[bytes, bytes] = await self._call(self._r.hgetall(self.key(session_id)))
        try:
            values = {name: raw[name.encode()].decode() for name in _FIELDS}
            return Session(
                token_id=values["token_id"],
                csrf=values["csrf"],
                created_at=datetime.fromisoformat(values["created_at"]),
                expires_at=datetime.fromisoformat(values["expires_at"]),
            )
        except (KeyError, ValueError, UnicodeDecodeError):
            return None

    async def delete(self, session_id: str) -> bool:
        """End the session; True if it existed."""
        return bool(await self._call(self._r.delete(self.key(session_id))))

    async def _call(self, pending: Awaitable[Any]) -> Any:
        try:
            return await pending
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc
