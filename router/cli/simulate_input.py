"""Where ``ticket-router simulate`` gets its arrivals: a trace file or the service's
recent tickets in Redis (the generator is pure, in ``router.core.sim.arrivals``).

A trace is an export of real tickets, one per line: JSON Lines (a ticket object as the
service accepts it, with ``created_at``) or CSV (columns named like the ticket's fields;
``customer.country`` or ``customer_country`` for the customer's; ``tags`` separated by
``;``). Optional per ticket: labels (``language``, ``tier``, ``category``, and their
``*_confidence``; in JSON Lines inside a ``labels`` object) and ``handle_seconds`` (how
long an agent worked on it). A ticket without all three labels is classified by the
model, and any labels it has replace the model's.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from classifiers.types import Classifier, Prediction
from queues.keys import Keys
from queues.ticket_store import RedisTicketStore
from router.core.domain import Ticket
from router.core.errors import InvalidInput
from router.core.sim.arrivals import Arrival
from router.core.ticket_schema import ticket_from_object
from router.service.redis_wiring import open_redis
from router.service.routing import classifier_input
from router.service.settings import Settings
from router.service.simulation import Loaded, recent_arrivals

LABELS = ("language", "tier", "category")
_CUSTOMER = ("id", "email", "phone", "locale", "timezone", "country", "plan", "region")
#: The model version recorded for predictions taken from a trace's own labels.
LABELS_MODEL = "trace-labels"


@dataclass(frozen=True, slots=True)
class TraceRow:
    """One valid ticket of a trace, before its prediction is known."""

    ticket: Ticket
    labels: Mapping[str, Any]
    handle_seconds: float | None


def read_trace(path: Path) -> tuple[list[TraceRow], list[str]]:
    """The valid tickets of a trace file and the refused lines (the file's format by its
    name: ``.csv`` is CSV, anything else JSON Lines)."""
    text = path.read_text(encoding="utf-8")
    objects = _csv_objects(text) if path.suffix.lower() == ".csv" else _jsonl_objects(text)
    rows: list[TraceRow] = []
    refused: list[str] = []
    for line, item in objects:
        if isinstance(item, str):
            refused.append(f"line {line}: {item}")
            continue
        try:
            rows.append(_row(item))
        except (InvalidInput, ValueError) as exc:
            refused.append(f"line {line}: {exc}")
    return rows, refused


def _jsonl_objects(text: str) -> Iterable[tuple[int, dict[str, Any] | str]]:
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield n, f"not JSON: {exc}"
            continue
        yield n, value if isinstance(value, dict) else "not a JSON object"


def _csv_objects(text: str) -> Iterable[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(io.StringIO(text))
    for record in reader:
        line = reader.line_num
        item: dict[str, Any] = {}
        customer: dict[str, str] = {}
        labels: dict[str, str] = {}
        for column, cell in record.items():
            if column is None or cell is None or cell == "":
                continue
            name = column.strip()
            for prefix in ("customer.", "customer_"):
                if name.startswith(prefix) and name[len(prefix) :] in _CUSTOMER:
                    customer[name[len(prefix) :]] = cell
                    break
            else:
                if name in LABELS or name.endswith("_confidence"):
                    labels[name] = cell
                elif name == "tags":
                    item["tags"] = [t.strip() for t in cell.split(";") if t.strip()]
                else:
                    item[name] = cell
        if customer:
            item["customer"] = customer
        if labels:
            item["labels"] = labels
        yield line, item


def _row(item: dict[str, Any]) -> TraceRow:
    item = dict(item)
    labels = item.pop("labels", None) or {}
    if not isinstance(labels, dict):
        raise ValueError("labels: must be an object")
    handle = item.pop("handle_seconds", None)
    if handle is not None:
        handle = float(handle)
        if not 0 < handle < math.inf:
            raise ValueError("handle_seconds: must be a positive number")
    ticket = ticket_from_object(item)
    if ticket.created_at is None:
        raise ValueError("created_at: a trace needs each ticket's arrival time")
    return TraceRow(ticket, labels, handle)


def _confidence(labels: Mapping[str, Any], name: str, default: float) -> float:
    value = labels.get(f"{name}_confidence")
    if value is None:
        return default
    number = float(value)
    if not 0 <= number <= 1:
        raise ValueError(f"{name}_confidence: must be from 0 to 1")
    return number


def _labelled(ticket: Ticket, labels: Mapping[str, Any], base: Prediction | None) -> Prediction:
    """The prediction from the ticket's labels, over the model's (``base``) if some are
    missing."""
    zone = ticket.customer.timezone
    if base is None:
        base = Prediction(
            language="", language_confidence=1.0, tier="", tier_confidence=1.0,
            category="", category_confidence=1.0, timezone=zone,
            timezone_source="customer" if zone else "none", model_version=LABELS_MODEL,
        )  # fmt: skip
    changes: dict[str, Any] = {}
    for name in LABELS:
        if labels.get(name):
            changes[name] = str(labels[name])
            changes[f"{name}_confidence"] = _confidence(labels, name, 1.0)
    return replace(base, **changes)


def needs_model(rows: Sequence[TraceRow]) -> bool:
    """Whether some ticket lacks one of the three labels."""
    return any(not all(row.labels.get(n) for n in LABELS) for row in rows)


def predict(rows: Sequence[TraceRow], model: Classifier | None) -> Loaded:
    """Arrivals of trace rows: labels where complete, else the model's prediction (with
    the labels given laid over it). ``model`` may be ``None`` when no row needs it."""
    todo = [i for i, row in enumerate(rows) if not all(row.labels.get(n) for n in LABELS)]
    predicted: dict[int, Prediction] = {}
    if todo:
        if model is None:
            raise ValueError("some tickets have no labels and there is no model")
        results = model.predict([classifier_input(rows[i].ticket) for i in todo])
        predicted = dict(zip(todo, results, strict=True))
    arrivals: list[Arrival] = []
    refused: list[str] = []
    for i, row in enumerate(rows):
        try:
            prediction = _labelled(row.ticket, row.labels, predicted.get(i))
        except ValueError as exc:
            refused.append(f"ticket {row.ticket.id}: {exc}")
            continue
        assert row.ticket.created_at is not None  # checked when the row was read
        arrivals.append(Arrival(row.ticket, prediction, row.ticket.created_at, row.handle_seconds))
    arrivals.sort(key=lambda a: a.at.timestamp())
    return Loaded(arrivals, refused, classified=len(todo))


async def read_recent(settings: Settings, n: int) -> Loaded:
    """The ``n`` most recently routed tickets, as the config preview reads them (the
    recent-ids list, then each stored assignment), with their recorded predictions;
    each arrives at its ``created_at``, else when the service received it."""
    async with open_redis(settings) as client:
        store = RedisTicketStore(client, Keys(settings.names.redis_prefix))
        records = []
        for ticket_id in await store.recent_ids(n):
            stored = await store.get(ticket_id)
            if stored is not None:
                records.append((ticket_id, stored.record))
    return recent_arrivals(records)
