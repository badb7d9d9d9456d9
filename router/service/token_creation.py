"""Creating a bearer token: one validation and one audit record, whoever asks.

The admin API (``POST /v1/admin/tokens``) and the command line (``ticket-router token
create``) both validate what they were given with :func:`token_request` and hand the
result to :func:`create_token`. So a request one refuses the other refuses with the
same message, and both write the same ``token.create`` audit record.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from router.core.tokens import Scope, TokenInfo, format_scopes, parse_scopes
from router.core.validation import AgentId, StrictModel, validate
from router.service.ports import AuditLog, TokenStore

# Past ten years a token should be replaced, not kept; the cap also keeps the
# expiry a date (a few million days would overflow it).
MAX_TOKEN_DAYS = 3650
EXPIRY_PROBLEM = (
    f"must be a whole number of days, more than 0 and at most {MAX_TOKEN_DAYS} "
    "(leave it out for a token that never expires)"
)
AGENT_PROBLEM = "only a token with an agent:<pool> scope acts as an agent"


def _days(value: Any) -> Any:
    # One message for every refusal -- true, "7", 7.5, 0, -1, 10**30 -- saying what
    # is allowed. JSON Schema counts 7.0 as an integer, so it is 7.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TOKEN_DAYS:
        raise ValueError(EXPIRY_PROBLEM)
    return value


ExpiryDays = Annotated[int, Field(ge=1, le=MAX_TOKEN_DAYS), BeforeValidator(_days)]


class TokenRequest(StrictModel):
    """A new bearer token: the body of ``POST /v1/admin/tokens``, the options of
    ``ticket-router token create``."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(
        min_length=1, max_length=64, description="ingest | admin | viewer | agent:<pool id>"
    )
    expires_in_days: ExpiryDays | None = Field(
        default=None, description="days until it expires; none: never"
    )
    agent: AgentId | None = Field(
        default=None,
        description="bind the token to this agent id: it may pull, claim and act on "
        "leases only as this agent",
    )

    @field_validator("name")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        # The same check as the token store's (Python's strip, which also drops
        # U+001C-U+001F), plus no control characters: a name shows in listings and audit.
        value = value.strip()
        if not value:
            raise ValueError("must have a visible character")
        if any(unicodedata.category(c) == "Cc" for c in value):
            raise ValueError("must not contain control characters")
        return value

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, value: list[str]) -> list[str]:
        parse_scopes(value)  # ScopeError (a ValueError) says which and why
        return value

    @field_validator("agent")
    @classmethod
    def _agent_needs_a_pool(cls, value: str | None, info: ValidationInfo) -> str | None:
        scopes = info.data.get("scopes")  # absent when the scopes were refused
        if value is None or scopes is None:
            return value
        if not any(scope.kind == "agent" for scope in parse_scopes(scopes)):
            raise ValueError(AGENT_PROBLEM)
        return value

    def scope_set(self) -> frozenset[Scope]:
        """The scopes, parsed."""
        return parse_scopes(self.scopes)


def token_request(data: Mapping[str, Any]) -> TokenRequest:
    """``data`` validated as a :class:`TokenRequest`; ``InvalidInput`` names the first
    field that is wrong and says why."""
    return validate(TokenRequest, dict(data))


def audit_details(info: TokenInfo) -> dict[str, str | None]:
    """The details of a ``token.create`` audit record (never the secret)."""
    return {
        "name": info.name,
        "scopes": format_scopes(info.scopes),
        "expires_at": info.expires_at.isoformat() if info.expires_at else None,
        "agent": info.agent,
    }


async def create_token(
    tokens: TokenStore, audit: AuditLog, request: TokenRequest, actor: str
) -> tuple[str, TokenInfo]:
    """Store the token ``request`` describes, created by ``actor``, and audit it; return
    the plaintext (show it once) and the token's info. ``TransientError`` when the
    store or the log is unavailable."""
    days = request.expires_in_days
    expires_at = tokens.now() + timedelta(days=days) if days is not None else None
    plaintext, info = await tokens.create(
        request.name, request.scope_set(), expires_at, created_by=actor, agent=request.agent
    )
    await audit.record(actor, "token.create", info.token_id, audit_details(info))
    return plaintext, info
