"""Domain dataclasses shared by the pure core and the shell.

Pure data: no I/O, no aiohttp, aio_pika or redis. The words are the README's
(pool, rule, decision, assignment, lease).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

# The one definition of each closed set of names: the ticket format, the config file
# format and the OpenAPI document all take theirs from here.
Priority = Literal["low", "normal", "high", "urgent"]
Channel = Literal["email", "chat", "phone", "web", "social"]
PoolKind = Literal["in_house", "outsourced"]
DataAccess = Literal["full", "masked"]

PRIORITIES: tuple[Priority, ...] = get_args(Priority)
CHANNELS: tuple[Channel, ...] = get_args(Channel)
POOL_KINDS: tuple[PoolKind, ...] = get_args(PoolKind)
DATA_ACCESSES: tuple[DataAccess, ...] = get_args(DataAccess)
# Higher number, more urgent: used to order a pool's backlog.
PRIORITY_RANK: Mapping[str, int] = {name: rank for rank, name in enumerate(PRIORITIES)}

# Pool ids: what the config file accepts is what a pool id is. They end up in queue
# names ("pool.<id>"), Redis keys, URLs and metrics labels, hence the small alphabet;
# a token scope, a path or anything else naming a pool is checked against this too.
POOL_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
POOL_ID_RULE = "1-63 lowercase letters, digits, '_' or '-', starting with a letter or digit"
POOL_ID = re.compile(POOL_ID_PATTERN)
# Agent ids come from the contact-centre platform (e-mail-like names included).
AGENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,127}$"
AGENT_ID_RULE = "1-128 letters, digits and _.@:+-"
AGENT_ID = re.compile(AGENT_ID_PATTERN)


def valid_agent_id(text: str) -> bool:
    """Whether ``text`` is a well-formed agent id (see :data:`AGENT_ID_PATTERN`)."""
    return AGENT_ID.fullmatch(text) is not None


def valid_pool_id(text: str) -> bool:
    """Whether ``text`` is a pool id a config may have (see :data:`POOL_ID_PATTERN`)."""
    # fullmatch, not match: with match, "$" would let a trailing newline through.
    return POOL_ID.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class Customer:
    """The customer behind a ticket; every field optional."""

    id: str | None = None
    email: str | None = None
    phone: str | None = None
    locale: str | None = None
    timezone: str | None = None
    country: str | None = None
    plan: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """A validated inbound ticket.

    ``raw`` is the JSON object exactly as received (unknown top-level fields
    included), so the assignment can carry the ticket as the platform sent it.
    """

    id: str
    subject: str
    body: str
    customer: Customer = field(default_factory=Customer)
    channel: str | None = None
    created_at: datetime | None = None
    priority: Priority = "normal"
    tags: tuple[str, ...] = ()
    source: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)
    # Facts found in the content that restrict where it may go (e.g.
    # "contains_card_data"); routing rules and the data policy match on them.
    flags: frozenset[str] = frozenset()

    @property
    def text(self) -> str:
        """Subject and body as one text, the classifiers' input."""
        if self.subject and self.body:
            return f"{self.subject}\n{self.body}"
        return self.subject or self.body


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """If the ticket is not accepted within ``after_seconds``, move it to ``pools``."""

    after_seconds: int
    pools: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    """The pure result of routing one ticket at one instant, with its reasons.

    ``excluded`` maps every pool not chosen to one line saying why; ``fallback``
    says how the pool was found when no qualified pool was open (``None`` when
    one was): ``"opens_soonest"`` (then ``opens_at`` says when), ``"catch_all"``,
    ``"over_capacity"`` (qualified pools are open but full), ``"unqualified"`` (no
    allowed pool has the language, tier and category) or ``"unstaffed"``.
    """

    ticket_id: str
    pool_id: str
    pool_kind: PoolKind
    data_access: DataAccess
    rule: str
    strategy: str
    priority: Priority
    sla_due: datetime
    decided_at: datetime
    config_version: str
    reasons: tuple[str, ...]
    excluded: Mapping[str, str]
    escalation: tuple[EscalationStep, ...] = ()
    fallback: str | None = None
    opens_at: datetime | None = None
    # The tier routed on (after low-confidence and rule overrides) and the customer's
    # residency region, so the assignment says what the decision was based on.
    tier: str | None = None
    region: str | None = None


def backlog_score(priority_rank: int, received_ms: int) -> float:
    """Order of a pool's backlog: most urgent first, then longest waiting.

    Epoch milliseconds stay below 1e13 for centuries, so each priority rank (0 low ..
    3 urgent) gets its own band and time orders tickets within it.
    """
    return float((3 - priority_rank) * 10**13 + received_ms)
