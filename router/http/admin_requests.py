"""The request bodies of the admin API, strict like the agents' ones (pure).

A new token's body is :class:`router.service.token_creation.TokenRequest`, the one
the command line validates with too."""

from __future__ import annotations

from pydantic import Field

from router.http.agent_requests import AgentRequest, WholeNumber


class RollbackRequest(AgentRequest):
    """``POST /v1/config/rollback``: the version to put in force again."""

    version: WholeNumber = Field(ge=1, le=2**63 - 1)
