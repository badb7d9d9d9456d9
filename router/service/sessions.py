"""Signing in to the dashboard: a bearer token exchanged for a browser session.

:meth:`Sessions.sign_in` checks the token like a bearer credential and opens a session
only for ``admin`` and ``viewer`` tokens; :meth:`Sessions.resolve` is what every
cookie-authenticated request goes through: the session must exist and be live, and
its token must still be active -- read again from the token store each time, so
revoking or expiring a token ends its sessions at once (the session is then deleted).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from router.core.sessions import Session, may_sign_in, new_session, new_session_id
from router.core.tokens import Principal
from router.service.ports import SessionStore, TokenStore

log = logging.getLogger(__name__)

#: Why a sign-in was refused: the token is not valid, or may not open a session.
Refusal = Literal["invalid", "scope"]


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A live session and who it authenticates."""

    session_id: str
    session: Session
    principal: Principal


class Sessions:
    """The session use case over a token store and a session store."""

    def __init__(self, tokens: TokenStore, store: SessionStore) -> None:
        self._tokens = tokens
        self._store = store

    async def sign_in(self, plaintext: str) -> ActiveSession | Refusal:
        """Open a session for a valid ``admin`` or ``viewer`` token; ``"invalid"`` for
        a token that is unknown, wrong, revoked or expired, ``"scope"`` for a valid one
        of another scope. ``TransientError`` when a store is unavailable."""
        who = await self._tokens.authenticate(plaintext)
        if who is None:
            return "invalid"
        if not may_sign_in(who):
            return "scope"
        info = await self._tokens.get(who.token_id)
        if info is None:  # revoked and deleted between the two reads
            return "invalid"
        session = new_session(who.token_id, self._tokens.now(), info.expires_at)
        session_id = new_session_id()
        await self._store.put(session_id, session)
        log.info("session opened for token %s (%s)", who.token_id, who.name)
        return ActiveSession(session_id, session, who)

    async def resolve(self, session_id: str) -> ActiveSession | None:
        """The live session of ``session_id`` with its token's principal, or None (unknown,
        expired, or its token no longer active or no longer allowed to sign in)."""
        session = await self._store.get(session_id)
        if session is None:
            return None
        now = self._tokens.now()
        info = await self._tokens.get(session.token_id)
        if (
            not session.live(now)
            or info is None
            or info.status(now) != "active"
            or not may_sign_in(info.principal())
        ):
            await self._store.delete(session_id)  # ended for good: do not look again
            return None
        return ActiveSession(session_id, session, info.principal())

    async def sign_out(self, session_id: str) -> bool:
        """End a session; True if there was one."""
        return await self._store.delete(session_id)
