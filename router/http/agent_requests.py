"""The request bodies of the agents' and the admin API, validated with pydantic (pure).

Strict (see :class:`router.core.validation.StrictModel`): a number is not a string,
``true`` is not ``1`` and ``"5"`` is not ``5``, so a careless client learns its
mistake instead of having it guessed."""

from __future__ import annotations

from typing import Literal, TypeVar

from pydantic import Field

from router.core.domain import valid_agent_id
from router.core.errors import InvalidInput
from router.core.json_input import loads_strict
from router.core.validation import AgentId as AgentId
from router.core.validation import StrictModel, validate
from router.core.validation import WholeNumber as WholeNumber


class AgentRequest(StrictModel):
    """Base of the agents' and the admin API's request bodies."""


class PullBody(AgentRequest):
    """``POST .../assignments/next``: who pulls, how long to wait, how long a lease."""

    agent: AgentId
    wait: float = Field(default=0, ge=0, le=30)
    lease_seconds: WholeNumber = Field(default=300, ge=1, le=3600)


class ClaimBody(AgentRequest):
    """``POST .../claim``: take a ticket whose message came from the pool's queue."""

    agent: AgentId
    lease_seconds: WholeNumber = Field(default=300, ge=1, le=3600)


class LeaseBody(AgentRequest):
    """Names the lease that acts (``accept``)."""

    lease_id: str = Field(min_length=1, max_length=64)

    def argument(self) -> str:
        """What the lease action takes besides the lease (see ``RedisLeaseStore.act``)."""
        return ""


class CompleteBody(LeaseBody):
    """``complete``: how it ended (e.g. ``resolved``)."""

    outcome: str = Field(min_length=1, max_length=200)

    def argument(self) -> str:
        """The outcome."""
        return self.outcome


class ReleaseBody(LeaseBody):
    """``release``: why, optionally."""

    reason: str = Field(default="", max_length=500)

    def argument(self) -> str:
        """The reason."""
        return self.reason


class EscalateBody(LeaseBody):
    """``escalate``: why tier 2 should take it."""

    reason: str = Field(min_length=1, max_length=500)


class ExtendBody(LeaseBody):
    """``extend``: the lease then ends ``seconds`` from now (never earlier than before)."""

    seconds: WholeNumber = Field(ge=1, le=3600)

    def argument(self) -> str:
        """The extension in milliseconds."""
        return str(self.seconds * 1000)


class PresenceBody(AgentRequest):
    """An agent's heartbeat."""

    status: Literal["online", "away", "offline"]


B = TypeVar("B", bound=StrictModel)


def parse_body(raw: bytes, model: type[B]) -> B:
    """Decode and validate a request body; :class:`InvalidInput` names the bad field."""
    data = loads_strict(raw or b"{}")
    if not isinstance(data, dict):
        raise InvalidInput("body", "must be a JSON object")
    return validate(model, data)


def valid_agent(agent: str) -> bool:
    """Whether ``agent`` is a well-formed agent id."""
    return valid_agent_id(agent)
