"""Bearer tokens and their scopes (pure: no storage here).

A token reads ``trt_<token id>_<secret>``: the id names the stored record (it
is not secret and shows in listings and the audit log), the secret is 256
random bits from ``secrets``. Only a hash of the whole token is stored.

Scopes: ``ingest`` (post tickets), ``agent:<pool id>`` (pull and work that
pool's assignments), ``admin`` (config, tokens, everything else) and ``viewer``
(read what admin reads -- config, versions, coverage, KPIs, pools, tokens' metadata,
the audit log -- and change nothing; no ticket contents). A token may
also be bound to one agent id: it then pulls, claims and acts on leases only as
that agent, so one agent cannot work another's leases.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from router.core.domain import POOL_ID as POOL_ID  # re-exported: the pattern lived here
from router.core.domain import valid_pool_id
from router.core.errors import RouterError

TOKEN_PREFIX = "trt"
ScopeKind = Literal["ingest", "agent", "admin", "viewer"]
TokenStatus = Literal["active", "expired", "revoked"]

# The pool ids an agent scope may name: still the wider alphabet scopes always took
# (capitals and dots too), although a pool id is what POOL_ID allows -- narrowing it
# would refuse scopes such as "agent:apac.l2_x" that were valid until now. Access is
# judged by POOL_ID all the same (``Principal.allows_pool``).
SCOPE_POOL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# The scopes that are one word (no pool id), in the order error messages name them.
_PLAIN_KINDS: tuple[Literal["ingest", "admin", "viewer"], ...] = ("ingest", "admin", "viewer")
_TOKEN_ID = re.compile(r"[0-9a-f]{16}")
_TOKEN_ID_BYTES = 8
_SECRET_BYTES = 32


class ScopeError(RouterError, ValueError):
    """A scope string that is not ``ingest``, ``admin``, ``viewer`` or ``agent:<pool id>``."""


@dataclass(frozen=True, slots=True, order=True)
class Scope:
    """One permission a token carries."""

    kind: ScopeKind
    pool_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "agent":
            if not self.pool_id or not SCOPE_POOL_ID.fullmatch(self.pool_id):
                raise ScopeError(
                    f"bad pool id {self.pool_id!r} in agent scope: use 1-64 letters, digits, "
                    "'_', '-' or '.', starting with a letter or digit"
                )
        elif self.kind in _PLAIN_KINDS:
            if self.pool_id is not None:
                raise ScopeError(f"scope {self.kind!r} takes no pool id")
        else:
            raise ScopeError(f"unknown scope kind {self.kind!r}")

    @classmethod
    def parse(cls, text: str) -> Scope:
        """Parse ``ingest``, ``admin``, ``viewer`` or ``agent:<pool id>``; ``ScopeError``
        says why not."""
        value = text.strip()
        for kind in _PLAIN_KINDS:
            if value == kind:
                return cls(kind)
        if value.startswith("agent:"):
            pool_id = value.removeprefix("agent:")
            if not pool_id:
                raise ScopeError("scope 'agent:' needs a pool id, e.g. 'agent:emea-tier1'")
            return cls("agent", pool_id)
        raise ScopeError(
            f"unknown scope {text!r}: expected 'ingest', 'admin', 'viewer' or 'agent:<pool id>'"
        )

    def __str__(self) -> str:
        return f"agent:{self.pool_id}" if self.kind == "agent" else self.kind


def parse_scopes(texts: Iterable[str]) -> frozenset[Scope]:
    """Parse several scopes; at least one is required."""
    scopes = frozenset(Scope.parse(text) for text in texts)
    if not scopes:
        raise ScopeError("a token needs at least one scope")
    return scopes


def format_scopes(scopes: Iterable[Scope]) -> str:
    """Scopes as one space-separated string, sorted, the form used in storage and listings."""
    return " ".join(str(scope) for scope in sorted(scopes))


@dataclass(frozen=True, slots=True)
class Principal:
    """Who presented a valid token, and what it may do."""

    token_id: str
    name: str
    scopes: frozenset[Scope]
    agent: str | None = None  # the one agent id this token acts as, if bound

    def acts_as(self, agent: str) -> bool:
        """May act as agent ``agent`` (any agent of its pools unless bound to one)."""
        return self.agent is None or self.agent == agent

    def allows_admin(self) -> bool:
        """May change config and manage tokens."""
        return Scope("admin") in self.scopes

    def allows_read(self) -> bool:
        """May read what ops read -- config, versions, coverage, KPIs, pools, tokens'
        metadata, the audit log -- without changing anything (``admin`` or ``viewer``)."""
        return self.allows_admin() or Scope("viewer") in self.scopes

    def allows_pool_read(self, pool_id: str) -> bool:
        """May read the status and listing of ``pool_id``: its agents, or a reader."""
        return self.allows_read() or self.allows_pool(pool_id)

    def allows_ingest(self) -> bool:
        """May post tickets. Admin implies it: an admin can mint an ingest token anyway."""
        return self.allows_admin() or Scope("ingest") in self.scopes

    def allows_pool(self, pool_id: str) -> bool:
        """May pull and work the assignments of ``pool_id`` (admin: every pool)."""
        return self.allows_admin() or (
            valid_pool_id(pool_id) and Scope("agent", pool_id) in self.scopes
        )

    @property
    def pools(self) -> frozenset[str]:
        """The pools named by agent scopes (admin's implicit access not included)."""
        return frozenset(s.pool_id for s in self.scopes if s.pool_id is not None)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What is known about a stored token: never its secret nor its hash."""

    token_id: str
    name: str
    scopes: frozenset[Scope]
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    created_by: str | None = None
    agent: str | None = None

    def status(self, now: datetime) -> TokenStatus:
        """Revoked wins over expired; a token is active only if neither."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"

    def principal(self) -> Principal:
        """The principal this token authenticates as."""
        return Principal(self.token_id, self.name, self.scopes, self.agent)


class LastAdminTokenError(RouterError):
    """Revoking this token would leave no active admin token: nobody could manage
    tokens or config through the API any more."""


class TokenFormatError(RouterError, ValueError):
    """A presented string that is not shaped like one of our tokens."""


def new_token() -> tuple[str, str]:
    """A fresh token: (plaintext ``trt_<id>_<secret>``, token id). Show the plaintext once."""
    token_id = secrets.token_hex(_TOKEN_ID_BYTES)
    # token_urlsafe may contain "_": split_token splits at most twice, so that is fine.
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    return f"{TOKEN_PREFIX}_{token_id}_{secret}", token_id


def split_token(plaintext: str) -> tuple[str, str]:
    """(token id, secret) of a presented token; ``TokenFormatError`` if it is not one of ours."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not _TOKEN_ID.fullmatch(parts[1]):
        raise TokenFormatError("not a ticket-router token (expected trt_<id>_<secret>)")
    if not parts[2]:
        raise TokenFormatError("token has no secret")
    return parts[1], parts[2]


def hash_secret(token: str) -> str:
    """SHA-256 (hex) of the whole plaintext token, the only form that is stored."""
    # A plain fast hash is right here, unlike for passwords: the secret is 256
    # random bits, so guessing it from a leaked hash is hopeless however fast
    # the hash, and a slow KDF would only add latency to every request.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def verify(presented: str, stored_hash: str) -> bool:
    """Whether ``presented`` hashes to ``stored_hash``, compared in constant time."""
    return hmac.compare_digest(
        hash_secret(presented).encode("ascii"), stored_hash.encode("utf-8", "surrogatepass")
    )
