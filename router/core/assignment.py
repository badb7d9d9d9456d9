"""The assignment document: a decision delivered to a pool.

Pure: builds plain JSON-able dicts. The full document is stored in Redis (with the
ticket unmasked and every pool named, for ops); :func:`for_pool` makes the copy a
pool sees, and is the only way one is made: the pool queue message, the agents'
lease grants and escalation answers and an agent token's ``GET /v1/tickets/{id}``
all go through it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from classifiers.heads import BUILTIN_HEADS
from classifiers.types import NO_EXTRA, Prediction
from router.core.domain import Decision, Ticket
from router.core.masking import Masker, ticket_regions

SCHEMA_VERSION = 1

#: What :func:`for_pool` masks with (a :class:`router.core.masking.Masker`).
MaskFn = Masker
OTHER_POOL = "[other pool]"
OTHER_AGENT = "[other agent]"
_ROUTER_SHAPE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)|[a-z][a-z0-9_]{0,31}"
)

# Router-made fields a masked or outsourced pool's copy carries (strings masked and
# other pools' names redacted all the same); every other field of the record, known
# or added later, stays out of it.
_ISOLATED_FIELDS = (
    "schema",
    "ticket_id",
    "pool_id",
    "pool_kind",
    "data_access",
    "tier",
    "category",
    "language",
    "timezone",
    "timezone_source",
    "priority",
    "sla_due",
    "rule",
    "strategy",
    "fallback",
    "opens_at",
    "confidence",
    "predictions",
    "model_version",
    "config_version",
    "received_at",
    "decided_at",
    "escalation_step",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One SLA escalation step of an assignment's plan: after how long, to which pools."""

    after_seconds: int
    pools: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Assignment:
    """A decision delivered to a pool: the typed form of the document stored in Redis.

    One codec: :meth:`to_dict` / :meth:`from_dict` (and :meth:`encode` / :meth:`decode`)
    give and read the JSON document; times are RFC 3339 text as stored. Fields a later
    version adds, or an older one wrote, survive a round trip in ``extra``.
    """

    ticket_id: str
    pool_id: str
    pool_kind: str
    data_access: str
    tier: str
    category: str
    language: str
    timezone: str | None
    timezone_source: str | None
    priority: str
    sla_due: str | None
    rule: str
    strategy: str
    reasons: tuple[str, ...]
    excluded: Mapping[str, str]
    fallback: str | None
    opens_at: str | None
    escalation: tuple[PlannedStep, ...]
    confidence: Mapping[str, float]
    model_version: str
    config_version: str
    received_at: str
    decided_at: str
    ticket: Mapping[str, Any]
    ticket_masked: bool = False
    schema: int = SCHEMA_VERSION
    #: When the plan's steps started counting (an agent's escalation restarts it).
    escalation_base: str | None = None
    #: How many steps of the plan are used up.
    escalation_step: int | None = None
    #: The move history (agent escalations, SLA steps), oldest first.
    moves: tuple[Mapping[str, Any], ...] | None = None
    #: Every head's prediction, built-in and extra: head -> ``{"label", "confidence"}``
    #: (``None`` in a record written before it was recorded).
    predictions: Mapping[str, Mapping[str, Any]] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        ticket: Ticket,
        prediction: Prediction,
        decision: Decision,
        *,
        received_at: datetime,
    ) -> Assignment:
        """The assignment for ``ticket`` as decided, carrying the ticket unmasked."""
        return cls(
            ticket_id=ticket.id,
            pool_id=decision.pool_id,
            pool_kind=decision.pool_kind,
            data_access=decision.data_access,
            tier=prediction.tier,
            category=prediction.category,
            language=prediction.language,
            timezone=prediction.timezone,
            timezone_source=prediction.timezone_source,
            priority=decision.priority,
            sla_due=_iso(decision.sla_due),
            rule=decision.rule,
            strategy=decision.strategy,
            reasons=tuple(decision.reasons),
            excluded=dict(decision.excluded),
            fallback=decision.fallback,
            opens_at=_iso(decision.opens_at),
            escalation=tuple(
                PlannedStep(s.after_seconds, tuple(s.pools)) for s in decision.escalation
            ),
            confidence={
                "language": round(prediction.language_confidence, 4),
                "tier": round(prediction.tier_confidence, 4),
                "category": round(prediction.category_confidence, 4),
            },
            model_version=prediction.model_version,
            config_version=decision.config_version,
            received_at=_iso(received_at) or "",
            decided_at=_iso(decision.decided_at) or "",
            ticket=dict(ticket.raw),
            predictions=predictions_of(prediction),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (the shape stored in Redis and read by ops)."""
        out: dict[str, Any] = {
            "schema": self.schema,
            "ticket_id": self.ticket_id,
            "pool_id": self.pool_id,
            "pool_kind": self.pool_kind,
            "data_access": self.data_access,
            "tier": self.tier,
            "category": self.category,
            "language": self.language,
            "timezone": self.timezone,
            "timezone_source": self.timezone_source,
            "priority": self.priority,
            "sla_due": self.sla_due,
            "rule": self.rule,
            "strategy": self.strategy,
            "reasons": list(self.reasons),
            "excluded": dict(self.excluded),
            "fallback": self.fallback,
            "opens_at": self.opens_at,
            "escalation": [
                {"after_seconds": s.after_seconds, "pools": list(s.pools)} for s in self.escalation
            ],
            "confidence": dict(self.confidence),
            "model_version": self.model_version,
            "config_version": self.config_version,
            "received_at": self.received_at,
            "decided_at": self.decided_at,
            "ticket": dict(self.ticket),
            "ticket_masked": self.ticket_masked,
        }
        if self.escalation_base is not None:
            out["escalation_base"] = self.escalation_base
        if self.escalation_step is not None:
            out["escalation_step"] = self.escalation_step
        if self.moves is not None:
            out["moves"] = [dict(m) for m in self.moves]
        if self.predictions is not None:
            out["predictions"] = {head: dict(p) for head, p in self.predictions.items()}
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Assignment:
        """Read a stored document (fields it lacks take their neutral value)."""
        known = {f for f in _FIELDS}

        def text(key: str) -> str:
            value = doc.get(key)
            return "" if value is None else str(value)

        def maybe(key: str) -> str | None:
            value = doc.get(key)
            return None if value is None else str(value)

        ticket = doc.get("ticket")
        excluded = doc.get("excluded")
        confidence = doc.get("confidence")
        moves = doc.get("moves")
        step = doc.get("escalation_step")
        predictions = doc.get("predictions")
        return cls(
            ticket_id=text("ticket_id"),
            pool_id=text("pool_id"),
            pool_kind=text("pool_kind"),
            data_access=text("data_access"),
            tier=text("tier"),
            category=text("category"),
            language=text("language"),
            timezone=maybe("timezone"),
            timezone_source=maybe("timezone_source"),
            priority=text("priority"),
            sla_due=maybe("sla_due"),
            rule=text("rule"),
            strategy=text("strategy"),
            reasons=tuple(str(r) for r in doc.get("reasons") or ()),
            excluded=dict(excluded) if isinstance(excluded, Mapping) else {},
            fallback=maybe("fallback"),
            opens_at=maybe("opens_at"),
            escalation=tuple(
                PlannedStep(int(s["after_seconds"]), tuple(s.get("pools") or ()))
                for s in doc.get("escalation") or ()
                if isinstance(s, Mapping)
            ),
            confidence=dict(confidence) if isinstance(confidence, Mapping) else {},
            model_version=text("model_version"),
            config_version=text("config_version"),
            received_at=text("received_at"),
            decided_at=text("decided_at"),
            ticket=dict(ticket) if isinstance(ticket, Mapping) else {},
            ticket_masked=bool(doc.get("ticket_masked", False)),
            schema=int(doc.get("schema", SCHEMA_VERSION)),
            escalation_base=maybe("escalation_base"),
            escalation_step=None if step is None else int(step),
            moves=tuple(m for m in moves if isinstance(m, Mapping))
            if isinstance(moves, list)
            else None,
            predictions={
                str(head): dict(p) for head, p in predictions.items() if isinstance(p, Mapping)
            }
            if isinstance(predictions, Mapping)
            else None,
            extra={k: v for k, v in doc.items() if k not in known},
        )

    def prediction(self) -> Prediction:
        """The classifiers' prediction as recorded (the base of every re-decision)."""
        confidence = self.confidence
        return Prediction(
            language=self.language,
            language_confidence=float(confidence.get("language", 1.0)),
            tier=self.tier,
            tier_confidence=float(confidence.get("tier", 1.0)),
            category=self.category,
            category_confidence=float(confidence.get("category", 1.0)),
            timezone=self.timezone,
            timezone_source=self.timezone_source or "none",
            model_version=self.model_version,
            extra=_extra_heads(self.predictions),
        )

    def encode(self) -> bytes:
        """The stored JSON bytes."""
        return orjson.dumps(self.to_dict())

    @classmethod
    def decode(cls, raw: bytes) -> Assignment:
        """Read stored JSON bytes."""
        return cls.from_dict(orjson.loads(raw))

    def for_pool(self, mask: Masker, encoded: bytes | None = None) -> bytes:
        """The encoded copy the assignment's own pool receives (see :func:`for_pool`).

        A full-access in-house pool sees the record as stored: ``encoded`` (the bytes
        just stored) is that copy, so the document is not encoded a second time.
        """
        if self.data_access == "full" and self.pool_kind == "in_house" and not self.ticket_masked:
            return encoded if encoded is not None else self.encode()
        return orjson.dumps(for_pool(self, mask))


_FIELDS = frozenset({*Assignment.__dataclass_fields__, "schema"} - {"extra"})


def predictions_of(prediction: Prediction) -> dict[str, dict[str, Any]]:
    """Every head's label and confidence (rounded to 4 places), built-in heads first."""
    out = {
        "language": {
            "label": prediction.language,
            "confidence": round(prediction.language_confidence, 4),
        },
        "tier": {"label": prediction.tier, "confidence": round(prediction.tier_confidence, 4)},
        "category": {
            "label": prediction.category,
            "confidence": round(prediction.category_confidence, 4),
        },
    }
    for head, (label, confidence) in prediction.extra.items():
        out[head] = {"label": label, "confidence": round(confidence, 4)}
    return out


def _extra_heads(
    predictions: Mapping[str, Mapping[str, Any]] | None,
) -> Mapping[str, tuple[str, float]]:
    """The extra heads of a recorded ``predictions`` (none for an older record), so a
    re-decision matches rules on them as the first decision did."""
    if not predictions:
        return NO_EXTRA
    out = {
        head: (str(p.get("label")), float(p.get("confidence", 1.0)))
        for head, p in predictions.items()
        if head not in BUILTIN_HEADS and p.get("label") is not None
    }
    return out or NO_EXTRA


def build_assignment(
    ticket: Ticket,
    prediction: Prediction,
    decision: Decision,
    *,
    received_at: datetime,
) -> dict[str, Any]:
    """The assignment document for ``ticket`` as decided (see :class:`Assignment`)."""
    return Assignment.build(ticket, prediction, decision, received_at=received_at).to_dict()


@dataclass(frozen=True, slots=True)
class Viewer:
    """The pool a copy is made for, when it is not the record's own pool (an agent of
    the old pool escalating a ticket away): its id, kind and data access."""

    pool_id: str
    pool_kind: str
    data_access: str


def for_pool(
    assignment: Assignment | Mapping[str, Any], mask: Masker, viewer: Viewer | None = None
) -> dict[str, Any]:
    """The copy of an assignment record the pool it names (or ``viewer``) may see.

    An in-house pool with full data access sees the record as stored. Any other pool
    (``data_access`` masked -- or missing: it fails closed -- or an outsourced pool)
    gets an isolated copy: only the fields of ``_ISOLATED_FIELDS`` plus ``reasons``,
    the escalation times and its own moves; the ``excluded`` map is left out; every
    other pool's id is replaced by ``[other pool]`` in every text; and when its data
    access is masked, the ticket and every text the router wrote (reasons, moves'
    ``why``, the rule) are masked with ``mask``.
    """
    if isinstance(assignment, Assignment):
        assignment = assignment.to_dict()
    if viewer is None:
        viewer = Viewer(
            str(assignment.get("pool_id")),
            str(assignment.get("pool_kind")),
            str(assignment.get("data_access")),
        )
    masked = viewer.data_access != "full"
    if not masked and viewer.pool_kind == "in_house":
        out = dict(assignment)
        out["ticket_masked"] = False
        return out
    pool = viewer.pool_id
    ticket = assignment.get("ticket")
    ticket = ticket if isinstance(ticket, Mapping) else {}
    regions = ticket_regions(ticket)
    redact = _redactor(
        {
            OTHER_POOL: _pools_named(assignment) - {pool},
            OTHER_AGENT: _other_agents(assignment, pool),
        }
    )

    def text(value: str) -> str:
        value = redact(value)
        return mask.text(value, regions) if masked else value

    def plain(value: Any) -> Any:
        if isinstance(value, str):
            # Router-made times and tokens ("2026-03-04T12:30:00Z", "tier1") hold
            # nothing personal; anything else is scanned.
            return redact(value) if _ROUTER_SHAPE.fullmatch(value) else text(value)
        if isinstance(value, Mapping):
            # Keys alike: head names and "label"/"confidence" of the predictions
            # are such tokens, and scanning each one made a masked copy 12 % slower.
            return {plain(str(k)): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    out = {k: plain(assignment[k]) for k in _ISOLATED_FIELDS if k in assignment}
    if "ticket_id" in assignment:
        out["ticket_id"] = assignment["ticket_id"]  # the API handle, as the ticket's id
    out["reasons"] = [text(str(r)) for r in assignment.get("reasons") or ()]
    out["escalation"] = [
        {"after_seconds": step.get("after_seconds")}
        for step in assignment.get("escalation") or ()
        if isinstance(step, Mapping)
    ]
    if "moves" in assignment:
        out["moves"] = [_move(m, pool, text) for m in assignment["moves"] or ()]
    out["ticket"] = mask(ticket) if masked else dict(ticket)
    out["ticket_masked"] = masked
    return out


def _move(move: Any, pool: str, text: Callable[[str], str]) -> dict[str, Any]:
    """One entry of the move history as an isolated pool sees it: when, what kind, from
    and to (other pools unnamed), why (masked); the agent only if it was this pool's."""
    if not isinstance(move, Mapping):
        return {}
    out: dict[str, Any] = {k: move[k] for k in ("at", "kind", "step") if k in move}
    for end in ("from", "to"):
        if end in move:
            out[end] = pool if move[end] == pool else OTHER_POOL
    if move.get("agent") is not None and move.get("from") == pool:
        out["agent"] = text(str(move["agent"]))
    if "why" in move:
        out["why"] = text(str(move["why"]))
    return out


def _pools_named(assignment: Mapping[str, Any]) -> set[str]:
    """Every pool id the record names: its own, the excluded ones, the escalation
    steps' targets and the moves' ends."""
    names: set[str] = {str(assignment.get("pool_id"))}
    excluded = assignment.get("excluded")
    if isinstance(excluded, Mapping):
        names.update(str(k) for k in excluded)
    for step in assignment.get("escalation") or ():
        if isinstance(step, Mapping):
            names.update(str(p) for p in step.get("pools") or ())
    for move in assignment.get("moves") or ():
        if isinstance(move, Mapping):
            names.update(str(move[k]) for k in ("from", "to") if move.get(k) is not None)
    return names


def _other_agents(assignment: Mapping[str, Any], pool: str) -> set[str]:
    """The agents of other pools the moves name (an agent's escalation reason quotes its
    login, "escalated to tier2 by agent olga.acme: ...")."""
    return {
        str(move["agent"])
        for move in assignment.get("moves") or ()
        if isinstance(move, Mapping) and move.get("agent") and move.get("from") != pool
    }


def _redactor(names: Mapping[str, Iterable[str]]) -> Callable[[str], str]:
    """A function replacing each name (as a whole word) in a text with its token."""
    token_of = {name: token for token, group in names.items() for name in group if name}
    ids = sorted(token_of, key=len, reverse=True)
    if not ids:
        return lambda value: value
    # Bounded by letters and digits only: an id inside a longer token is still named
    # ("rule acme-first-then-rival-full").
    pattern = re.compile(
        r"(?<![A-Za-z0-9])(?:" + "|".join(map(re.escape, ids)) + r")(?![A-Za-z0-9])"
    )
    return lambda value: pattern.sub(lambda m: token_of[m.group()], value)
