"""``POST /v1/tickets`` (ingestion) and ``GET /v1/tickets/{id}`` (state and decision)."""

from __future__ import annotations

import logging
import unicodedata

import orjson
from aiohttp import web

from router.core.assignment import for_pool
from router.core.errors import InvalidInput, TransientError
from router.core.masking import masker_for
from router.core.ticket_schema import parse_ticket
from router.http import appkeys as K
from router.http.auth import principal, require_ingest
from router.http.util import json_error, json_response

log = logging.getLogger(__name__)


def ticket_routes() -> list[web.RouteDef]:
    """The ticket endpoints."""
    return [
        web.post("/v1/tickets", post_ticket),
        web.get("/v1/tickets/{ticket_id}", get_ticket),
    ]


async def post_ticket(request: web.Request) -> web.Response:
    """Validate a ticket and publish it to the tickets exchange with confirm.

    202 once the broker confirmed it (``status: accepted``), or at once for an id
    already routed (``status: duplicate``; nothing is published again); 400
    naming the field; 413 over the size limit; 503 when the broker is away.
    """
    require_ingest(request)
    settings = request.app[K.SETTINGS]
    metrics = request.app[K.METRICS]
    limit = settings.max_ticket_bytes
    if request.content_length is not None and request.content_length > limit:
        metrics.rejected_http.labels("too_large").inc()
        return json_error(413, "body", f"ticket is over the {limit}-byte limit")
    try:
        payload = await request.read()
    except web.HTTPRequestEntityTooLarge:
        metrics.rejected_http.labels("too_large").inc()
        return json_error(413, "body", f"ticket is over the {limit}-byte limit")
    try:
        ticket = parse_ticket(payload, max_bytes=limit)
    except InvalidInput as exc:
        metrics.rejected_http.labels(exc.reason).inc()
        return json_error(exc.status, exc.field, exc.problem)
    metrics.received.labels("http").inc()
    try:
        known = await request.app[K.STORE].get(ticket.id)
    except TransientError:
        known = None  # the consumer's claim still makes a re-send harmless
    if known is not None:
        metrics.duplicates.inc()
        return json_response(
            {"id": ticket.id, "status": "duplicate", "state": known.state}, status=202
        )
    try:
        await request.app[K.PUBLISHER].publish_ticket(ticket.id, payload, ticket.source)
    except TransientError as exc:
        log.warning("ticket %s not accepted: %s", ticket.id, exc)
        return json_error(503, None, "the message broker is unavailable; retry later")
    return json_response({"id": ticket.id, "status": "accepted"}, status=202)


async def get_ticket(request: web.Request) -> web.Response:
    """The ticket's state and its assignment (decision, reasons, versions, ticket).

    Platforms (``ingest``) and ops (``admin``) see every ticket unmasked; an agent
    token sees only tickets of its own pools, masked as its pool requires, and gets
    the same 403 for another pool's ticket as for an unknown id.
    """
    who = principal(request)
    # Tickets are stored under the NFC form of their id (see ticket_schema).
    ticket_id = unicodedata.normalize("NFC", request.match_info["ticket_id"])
    try:
        stored = await request.app[K.STORE].get(ticket_id)
    except TransientError:
        return json_error(503, None, "the state store is unavailable; retry later")
    assignment = orjson.loads(stored.record) if stored is not None else None
    if not who.allows_ingest():
        if assignment is None or not who.allows_pool(str(assignment["pool_id"])):
            return json_error(403, None, "this token may not read that ticket")
        assignment = for_pool(assignment, masker_for(request.app[K.SETTINGS].pseudonym_key))
    if stored is None or assignment is None:
        return json_error(404, "ticket_id", f"no ticket with id {ticket_id!r}")
    state = "routing" if stored.state == "claimed" else stored.state
    return json_response({"id": ticket_id, "state": state, "assignment": assignment})
