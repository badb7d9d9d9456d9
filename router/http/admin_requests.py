"""The request bodies of the admin API (tokens, config rollback), strict like the
agents' ones (pure)."""

from __future__ import annotations

import unicodedata

from pydantic import ConfigDict, Field, field_validator

from router.http.agent_requests import AgentId, AgentRequest, WholeNumber

# Past ten years a token should be replaced, not kept; the cap also keeps the
# expiry a date (1e308 days would overflow it).
MAX_TOKEN_DAYS = 3650


class TokenRequest(AgentRequest):
    """``POST /v1/admin/tokens``: a new bearer token."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(
        min_length=1, max_length=64, description="ingest | admin | agent:<pool id>"
    )
    expires_in_days: float | None = Field(default=None, gt=0, le=MAX_TOKEN_DAYS)
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


class RollbackRequest(AgentRequest):
    """``POST /v1/config/rollback``: the version to put in force again."""

    version: WholeNumber = Field(ge=1, le=2**63 - 1)
