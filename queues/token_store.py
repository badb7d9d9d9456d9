"""Bearer tokens in Redis: only hashes are stored, never a secret.

All tokens live in one hash, ``<prefix>tokens``, field = token id, value = a
JSON record. One key keeps every operation single-key, so it works on a Redis
Cluster, and listing needs no SCAN; a deployment has hundreds of tokens, not
millions. Revoked and expired tokens stay listed (with their status) for audit.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from router.core.errors import TransientError
from router.core.tokens import (
    LastAdminTokenError,
    Principal,
    Scope,
    TokenFormatError,
    TokenInfo,
    format_scopes,
    hash_secret,
    new_token,
    parse_scopes,
    split_token,
    verify,
)

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)

# KEYS[1] tokens hash; ARGV token id, revoked_at (now, UTC ISO 8601).
# 1 = revoked now, 0 = unknown or already, -1 = refused: the last active admin token.
# One script, so two admins revoking each other's tokens at once cannot both succeed.
# Times compare as strings: every stored time is UTC isoformat, so order is kept.
_REVOKE = """
local function active_admin(rec, now)
  if type(rec) ~= 'table' or rec['revoked_at'] or type(rec['scopes']) ~= 'string' then
    return false
  end
  if rec['expires_at'] and rec['expires_at'] <= now then return false end
  return string.find(' ' .. rec['scopes'] .. ' ', ' admin ', 1, true) ~= nil
end
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
if rec['revoked_at'] then return 0 end
if active_admin(rec, ARGV[2]) then
  local all = redis.call('HGETALL', KEYS[1])
  local others = 0
  for i = 1, #all, 2 do
    if all[i] ~= ARGV[1] then
      local ok, other = pcall(cjson.decode, all[i + 1])
      if ok and active_admin(other, ARGV[2]) then others = others + 1 end
    end
  end
  if others == 0 then return -1 end
end
rec['revoked_at'] = ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
return 1
"""

# Compared against when the token id is unknown, so an unknown id costs the
# same hash-and-compare as a known one.
_NO_HASH = "0" * 64


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TokenStore(Protocol):
    """Where bearer tokens are kept; the HTTP layer and the CLI use only this."""

    async def create(
        self,
        name: str,
        scopes: Iterable[Scope],
        expires_at: datetime | None = None,
        created_by: str | None = None,
        agent: str | None = None,
    ) -> tuple[str, TokenInfo]:
        """Store a new token; return its plaintext (shown once) and its info."""
        ...

    async def authenticate(self, plaintext: str) -> Principal | None:
        """The principal of a valid token; None for unknown, wrong, revoked or expired ones."""
        ...

    async def get(self, token_id: str) -> TokenInfo | None:
        """One token's info, or None."""
        ...

    async def list(self) -> builtins.list[TokenInfo]:
        """Every token's info, oldest first."""
        ...

    async def revoke(self, token_id: str) -> bool:
        """Revoke a token; True if it existed and was not revoked yet;
        :class:`LastAdminTokenError` if it is the last active admin token."""
        ...


def _encode(info: TokenInfo, token_hash: str) -> bytes:
    record: dict[str, Any] = {
        "name": info.name,
        "scopes": format_scopes(info.scopes),
        "hash": token_hash,
        "created_at": info.created_at.isoformat(),
    }
    if info.expires_at is not None:
        record["expires_at"] = info.expires_at.astimezone(UTC).isoformat()
    if info.created_by is not None:
        record["created_by"] = info.created_by
    if info.agent is not None:
        record["agent"] = info.agent
    return orjson.dumps(record)


def _decode(token_id: str, raw: bytes) -> tuple[TokenInfo, str]:
    record = orjson.loads(raw)

    def when(key: str) -> datetime | None:
        value = record.get(key)
        return datetime.fromisoformat(value) if value else None

    info = TokenInfo(
        token_id=token_id,
        name=record["name"],
        scopes=parse_scopes(record["scopes"].split()),
        created_at=datetime.fromisoformat(record["created_at"]),
        expires_at=when("expires_at"),
        revoked_at=when("revoked_at"),
        created_by=record.get("created_by"),
        agent=record.get("agent"),
    )
    return info, record["hash"]


class RedisTokenStore:
    """:class:`TokenStore` on a ``redis.asyncio.Redis`` (``decode_responses=False``)."""

    def __init__(
        self, redis: aioredis.Redis, prefix: str = "tr:", *, clock: Clock = _utcnow
    ) -> None:
        self._r = redis
        self.key = f"{prefix}tokens"
        self._clock = clock
        self._revoke = redis.register_script(_REVOKE)

    def now(self) -> datetime:
        """The store's clock: what expiry is judged against."""
        return self._clock()

    async def create(
        self,
        name: str,
        scopes: Iterable[Scope],
        expires_at: datetime | None = None,
        created_by: str | None = None,
        agent: str | None = None,
    ) -> tuple[str, TokenInfo]:
        """Store a new token (its hash only); return the plaintext, to show once, and its
        info. ``agent`` binds it to that one agent id."""
        name = name.strip()
        if not name or len(name) > 200:
            raise ValueError("a token needs a name of 1-200 characters")
        scope_set = frozenset(scopes)
        if not scope_set:
            raise ValueError("a token needs at least one scope")
        if expires_at is not None and expires_at.tzinfo is None:
            raise ValueError("expires_at must be time-zone aware")
        plaintext, token_id = new_token()
        info = TokenInfo(
            token_id, name, scope_set, self._clock(), expires_at, None, created_by, agent
        )
        # HSETNX: a 64-bit id collision is improbable, but never overwrite a token.
        if not await self._call(
            self._r.hsetnx(self.key, token_id, _encode(info, hash_secret(plaintext)))
        ):
            raise TransientError("token id collision; try again")
        return plaintext, info

    async def authenticate(self, plaintext: str) -> Principal | None:
        """The principal of a valid token; None for unknown, wrong, revoked or expired ones."""
        try:
            token_id, _ = split_token(plaintext)
        except TokenFormatError:
            return None
        raw = await self._call(self._r.hget(self.key, token_id))
        if raw is None:
            verify(plaintext, _NO_HASH)
            return None
        try:
            info, token_hash = _decode(token_id, raw)
        except (ValueError, KeyError, TypeError):
            # Fail closed: a record we cannot read authenticates no one.
            log.warning("unreadable token record %s", token_id)
            return None
        if not verify(plaintext, token_hash) or info.status(self._clock()) != "active":
            return None
        return info.principal()

    async def get(self, token_id: str) -> TokenInfo | None:
        """One token's info (never its hash), or None."""
        raw = await self._call(self._r.hget(self.key, token_id))
        return None if raw is None else _decode(token_id, raw)[0]

    async def list(self) -> builtins.list[TokenInfo]:
        """Every token's info (never a hash), oldest first."""
        raw: dict[bytes, bytes] = await self._call(self._r.hgetall(self.key))
        infos = []
        for token_id, value in raw.items():
            try:
                infos.append(_decode(token_id.decode(), value)[0])
            except (ValueError, KeyError, TypeError, AttributeError):
                # As in authenticate: a record we cannot read is no token (and no 500).
                log.warning("unreadable token record %r", token_id)
        return sorted(infos, key=lambda info: (info.created_at, info.token_id))

    async def revoke(self, token_id: str) -> bool:
        """Revoke a token from now on; True if it existed and was not revoked yet.
        :class:`LastAdminTokenError` (nothing changed) if it is the last active token
        with the admin scope: create another admin token first."""
        now = self._clock().astimezone(UTC).isoformat()
        done = int(await self._call(self._revoke(keys=[self.key], args=[token_id, now])))
        if done < 0:
            raise LastAdminTokenError(
                f"token {token_id} is the last active admin token; create another admin "
                "token before revoking it"
            )
        return done == 1

    async def _call(self, pending: Awaitable[Any]) -> Any:
        try:
            return await pending
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc
