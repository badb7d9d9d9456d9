"""Inbound ticket validation (the README's "The ticket format").

One function, :func:`parse_ticket`, turns raw bytes into a :class:`Ticket` or
raises :class:`InvalidInput` naming the field that is wrong. The same check runs
for AMQP messages and ``POST /v1/tickets`` so both paths accept exactly the same.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from classifiers.timezones import is_valid_timezone
from router.core.domain import Channel, Customer, Priority, Ticket
from router.core.errors import InvalidInput
from router.core.json_input import check_shape, loads_strict
from router.core.masking import ticket_has_card
from router.core.validation import invalid_input

_LOCALE_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"
# Control (Cc), format (Cf: zero-width, bidi overrides), surrogate (Cs) and line or
# paragraph separator (Zl, Zp) characters: invisible or misleading in an id that
# logs, dashboards and the idempotency key show.
_REFUSED_IN_ID = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class CustomerModel(BaseModel):
    """``customer``: who wrote the ticket; every field optional."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    id: str | None = Field(default=None, max_length=256)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    locale: str | None = Field(default=None, pattern=_LOCALE_PATTERN, max_length=35)
    timezone: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    plan: str | None = Field(default=None, max_length=64)
    region: str | None = Field(default=None, max_length=32)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_timezone(value):
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. 'Europe/Berlin')")
        return value

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value


class TicketModel(BaseModel):
    """The inbound ticket. Unknown top-level fields are kept, not rejected."""

    model_config = ConfigDict(extra="allow", strict=False)

    id: str = Field(min_length=1, max_length=128)
    subject: str = ""
    body: str = ""
    customer: CustomerModel | None = None
    channel: Channel | None = None
    created_at: datetime | None = None
    priority: Priority = "normal"
    tags: list[str] = Field(default_factory=list, max_length=100)
    source: str | None = Field(default=None, max_length=128)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id_clean(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        for char in value:
            if unicodedata.category(char) in _REFUSED_IN_ID:
                raise ValueError(
                    f"must not contain control or invisible characters (U+{ord(char):04X})"
                )
        # NFC: the composed and decomposed spellings of one id are one ticket.
        return unicodedata.normalize("NFC", value)

    @field_validator("created_at", mode="before")
    @classmethod
    def _timestamp_text(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise ValueError("must be an RFC 3339 string, e.g. 2026-11-22T08:00:00Z")
        return value

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must be RFC 3339 with a UTC offset, e.g. 2026-11-22T08:00:00Z")
        return value


def parse_ticket(payload: bytes, *, max_bytes: int = 64 * 1024) -> Ticket:
    """Decode and validate one ticket; raise :class:`InvalidInput` naming the problem.

    Beyond the fields' rules: at most 32 levels of nesting, no key twice in one
    object, integers within 64 bits (see :mod:`router.core.json_input`)."""
    if len(payload) > max_bytes:
        raise InvalidInput(
            "body",
            f"ticket is {len(payload)} bytes, over the {max_bytes}-byte limit",
            status=413,
            reason="too_large",
        )
    return _ticket(loads_strict(payload))


def ticket_from_object(data: Any) -> Ticket:
    """Validate an already-decoded JSON value as a ticket. The id is NFC-normalised,
    in the ticket and in its ``raw`` copy alike."""
    check_shape(data)
    return _ticket(data)


def _ticket(data: Any) -> Ticket:
    if not isinstance(data, dict):
        raise InvalidInput(
            "body", f"a ticket must be a JSON object, got {_json_type(data)}", reason="not_object"
        )
    try:
        model = TicketModel.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc) from None
    if not model.subject.strip() and not model.body.strip():
        raise InvalidInput(
            "subject", "subject and body are both empty; one must have text", reason="no_text"
        )
    if data["id"] != model.id:
        data = {**data, "id": model.id}
    customer = model.customer
    return Ticket(
        id=model.id,
        subject=model.subject,
        body=model.body,
        customer=Customer(
            id=customer.id,
            email=customer.email,
            phone=customer.phone,
            locale=customer.locale,
            timezone=customer.timezone,
            country=customer.country,
            plan=customer.plan,
            region=customer.region,
        )
        if customer
        else Customer(),
        channel=model.channel,
        created_at=model.created_at,
        priority=model.priority,
        tags=tuple(model.tags),
        source=model.source,
        metadata=model.metadata,
        raw=data,
        flags=content_flags(data),
    )


def content_flags(raw: dict[str, Any]) -> frozenset[str]:
    """Facts about the content that restrict where a ticket may go (rules match them).

    ``contains_card_data``: the masking detector finds a card number anywhere in the
    ticket -- any field, key or nested value, walked exactly as masking walks it -- or
    in its id (see ``router.core.masking.ticket_has_card``).
    """
    if ticket_has_card(raw):
        return frozenset({"contains_card_data"})
    return frozenset()


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
