"""The request bodies of the agents' and the admin API, validated with pydantic (pure).

Strict: a number is not a string, ``true`` is not ``1`` and ``"5"`` is not ``5``,
so a careless client learns its mistake instead of having it guessed."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from router.core.domain import AGENT_ID_PATTERN
from router.core.errors import InvalidInput
from router.core.json_input import loads_strict

AgentId = Annotated[str, StringConstraints(pattern=AGENT_ID_PATTERN)]


def _whole(value: Any) -> Any:
    # JSON Schema counts 5.0 as an integer, so accept it; "5" and true stay refused.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole)]


class AgentRequest(BaseModel):
    """Base of the request bodies: unknown keys are refused, so typos are caught."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


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


B = TypeVar("B", bound=AgentRequest)
_AGENT: TypeAdapter[str] = TypeAdapter(AgentId)


def parse_body(raw: bytes, model: type[B]) -> B:
    """Decode and validate a request body; :class:`InvalidInput` names the bad field."""
    data = loads_strict(raw or b"{}")
    if not isinstance(data, dict):
        raise InvalidInput("body", "must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(".".join(str(p) for p in first["loc"]) or "body", first["msg"]) from None


def valid_agent(agent: str) -> bool:
    """Whether ``agent`` is a well-formed agent id."""
    try:
        _AGENT.validate_python(agent)
    except ValidationError:
        return False
    return True
