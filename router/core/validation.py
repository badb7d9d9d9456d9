"""pydantic's validation errors in the service's own terms (pure).

One way to name where a value is wrong -- ``customer.email``, ``tags[0]``,
``pools[3].schedule.mon[0]`` -- and one way to word what pydantic says, for ticket
bodies, request bodies and config files alike; and the strict base of request bodies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

from router.core.domain import AGENT_ID_PATTERN
from router.core.errors import InvalidInput

# pydantic names validator wrappers in an error's location; they are not keys.
_WRAPPERS = ("function-after[", "function-before[", "function-wrap[", "function-plain[")


def location(loc: Sequence[int | str]) -> str:
    """The dotted path of a pydantic error location: list indexes in brackets,
    validator wrappers left out (``""`` for the whole value)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(_WRAPPERS):
            continue
        else:
            out += f".{part}" if out else part
    return out


def message(error: ErrorDetails) -> str:
    """What is wrong, in pydantic's words without the ``Value error, `` prefix it puts
    before our own validators' messages (the field named says enough)."""
    return str(error["msg"]).removeprefix("Value error, ")


def invalid_input(exc: ValidationError, *, whole: str = "body") -> InvalidInput:
    """The first error of ``exc`` as :class:`InvalidInput` naming its field (``whole``
    when it is about the value as a whole)."""
    first = exc.errors()[0]
    return InvalidInput(location(first["loc"]) or whole, message(first))


class StrictModel(BaseModel):
    """Base of request bodies: unknown keys are refused, so typos are caught, and
    nothing is coerced -- a number is not a string, ``true`` is not ``1`` and ``"5"``
    is not ``5``, so a careless client learns its mistake instead of having it guessed."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Any) -> M:
    """``data`` validated as ``model``; :class:`InvalidInput` names the first bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc) from None


def _whole(value: Any) -> Any:
    # JSON Schema counts 5.0 as an integer, so accept it; "5" and true stay refused.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole)]
AgentId = Annotated[str, StringConstraints(pattern=AGENT_ID_PATTERN)]
