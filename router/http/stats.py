"""``GET /v1/stats`` (KPIs, admin) and ``GET /v1/vendors/{vendor}/scorecard`` (a
vendor's weekly scorecard: admin, or an ``agent:<pool>`` token for its own pools)."""

from __future__ import annotations

from aiohttp import web

from router.core.errors import InvalidInput
from router.core.kpi import MAX_WEEKS
from router.http import appkeys as K
from router.http.auth import principal, require_read
from router.http.util import json_error, json_response, query_int
from router.service.stats import Stats, scorecard_csv

FORMATS = ("json", "csv")


def stats_routes() -> list[web.RouteDef]:
    """The KPI endpoints (a Redis outage answers 503 through the error middleware)."""
    return [
        web.get("/v1/stats", get_stats),
        web.get("/v1/vendors/{vendor}/scorecard", get_scorecard),
    ]


def _stats(request: web.Request) -> Stats | None:
    service = request.app.get(K.SERVICE)
    return service.stats if service is not None else None


# A service built without the KPI use case (in-process tests of other parts).
_UNAVAILABLE = "KPIs are not available on this service"


async def get_stats(request: web.Request) -> web.Response:
    """KPIs of ``period`` (``last_hour``, ``today`` in ``tz``) or ``from``..``to``,
    overall and grouped ``by`` pool, vendor, language or tier; shares; the backlog."""
    require_read(request)
    stats = _stats(request)
    if stats is None:
        return json_error(503, None, _UNAVAILABLE)
    q = request.query
    report = await stats.report(
        by=q.get("by", "overall"),
        period=q.get("period"),
        tz=q.get("tz"),
        start=q.get("from"),
        end=q.get("to"),
    )
    return json_response(report)


async def get_scorecard(request: web.Request) -> web.Response:
    """The vendor's scorecard for the last ``weeks`` ISO weeks (JSON, or CSV with
    ``format=csv``). An agent token reads only its own pools of it: 403 for a vendor
    none of its pools belongs to (unknown vendors alike); admin and viewer get 404 for
    those."""
    who = principal(request)
    stats = _stats(request)
    if stats is None:
        return json_error(503, None, _UNAVAILABLE)
    vendor = request.match_info["vendor"]
    pools = stats.vendor_pools(vendor)
    if not who.allows_read():
        pools = [p for p in pools if who.allows_pool(p)]
        if not pools:
            return json_error(403, None, "this token may not read that vendor's scorecard")
    elif not pools:
        return json_error(404, "vendor", f"no vendor {vendor!r} in the config in force")
    weeks = query_int(request, "weeks", 4, 1, MAX_WEEKS)
    form = request.query.get("format", "json")
    if form not in FORMATS:
        raise InvalidInput("format", f"must be one of {', '.join(FORMATS)}")
    card = await stats.scorecard(vendor, pools, weeks)
    if form == "csv":
        return web.Response(
            text=scorecard_csv(card),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{vendor}-scorecard.csv"'},
        )
    return json_response(card)
