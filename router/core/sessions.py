"""Browser sessions (pure: no storage here).

A session is what a bearer token with the ``admin`` or ``viewer`` scope is exchanged
for when a person signs in to the dashboard: an opaque random id, carried by an
HttpOnly cookie, and a CSRF value the page sends back in a header with every request
that changes something. The id is 256 random bits; only its SHA-256 names the stored
record, so a copy of Redis holds no cookie that works. A session lasts 8 hours from
sign-in at most, never past its token's expiry, and ends with its token (revoked or
expired tokens are checked on every request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from router.core.tokens import Principal

#: How long a session lasts from sign-in (the cookie's Max-Age and the record's TTL).
SESSION_TTL_S = 8 * 3600
_SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class Session:
    """One signed-in browser: whose token, its CSRF value, and until when."""

    token_id: str
    csrf: str
    created_at: datetime
    expires_at: datetime

    def live(self, now: datetime) -> bool:
        """Not expired yet at ``now``."""
        return now < self.expires_at


def new_session_id() -> str:
    """A fresh session id (the cookie's value): 256 random bits, URL-safe."""
    return secrets.token_urlsafe(_SECRET_BYTES)


def new_csrf() -> str:
    """A fresh CSRF value: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(_SECRET_BYTES)


def session_digest(session_id: str) -> str:
    """SHA-256 (hex) of a session id: the only form that names a stored session."""
    # As for tokens, a plain hash suffices: the id is 256 random bits.
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def csrf_matches(presented: str | None, expected: str) -> bool:
    """Whether ``presented`` is the session's CSRF value, compared in constant time."""
    if not presented or not expected:
        return False
    return hmac.compare_digest(
        presented.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def may_sign_in(who: Principal) -> bool:
    """Whether a token may open a session: only people reading or running the service
    (``admin`` or ``viewer``); platform and agent tokens are for programs."""
    return who.allows_read()


def new_session(token_id: str, now: datetime, token_expires_at: datetime | None) -> Session:
    """A session of ``token_id`` opened at ``now``: 8 hours, or until its token expires
    if that is sooner."""
    expires_at = now + timedelta(seconds=SESSION_TTL_S)
    if token_expires_at is not None and token_expires_at < expires_at:
        expires_at = token_expires_at
    return Session(token_id, new_csrf(), now, expires_at)
