"""The what-if simulator's SLA escalation: the service's own steps, in simulated time.

:class:`SlaSteps` is the :class:`router.core.sim.engine.Escalations` the simulation
runs with. It keeps each planned ticket's assignment record as the service would store
it and carries out a due step exactly as the lease sweeper does: :func:`due_step` says
which step (the latest one due), :func:`sla_move` re-decides among its pools. So a
simulated move is the move the service would make, residency and data policy included.

The rest is what the command (``ticket-router simulate``) and the API (``POST
/v1/simulate``) share: the arrivals of a generated week or of stored assignments, the
week they fall in, and the report (:func:`week_report`); :func:`run_job` runs one in a
worker process from plain data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from router.config.load import RoutingConfig, parse_config
from router.core.assignment import Assignment
from router.core.domain import Decision
from router.core.errors import InvalidInput
from router.core.sim.arrivals import Arrival, GeneratorSpec, generate, week_bounds
from router.core.sim.engine import SimRun, SimSettings, StepOutcome, simulate
from router.core.sim.report import ReportSettings, build_report, compare
from router.core.ticket_schema import ticket_from_object
from router.service.escalation import due_step, parse_time, sla_move


class SlaSteps:
    """Escalation steps for one simulated run of one config."""

    def __init__(self, config: RoutingConfig) -> None:
        self._config = config
        self._planned: dict[str, tuple[Arrival, Decision]] = {}
        self._records: dict[str, Assignment] = {}

    def first_due(self, arrival: Arrival, decision: Decision) -> datetime | None:
        """Remember the ticket if its decision planned steps; when the first comes due."""
        if not decision.escalation:
            return None
        self._planned[arrival.ticket.id] = (arrival, decision)
        return decision.decided_at + timedelta(seconds=decision.escalation[0].after_seconds)

    def _record(self, ticket_id: str) -> Assignment:
        record = self._records.get(ticket_id)
        if record is None:
            # Built on first use: most planned tickets are accepted before any step.
            arrival, decision = self._planned[ticket_id]
            record = Assignment.build(
                arrival.ticket, arrival.prediction, decision, received_at=arrival.at
            )
            self._records[ticket_id] = record
        return record

    def check(self, ticket_id: str, loads: Mapping[str, int], now: datetime) -> StepOutcome:
        """Carry out the step of the plan due at ``now``, if any, as the sweeper does."""
        if ticket_id not in self._planned:
            return StepOutcome(None, None, None, None)
        record = self._record(ticket_id)
        used = record.escalation_step or 0
        due = due_step(record, used, now)
        if due.index is None:
            return StepOutcome(None, None, None, due.next_due)
        move = sla_move(record, due.index, self._config, loads, now)
        self._records[ticket_id] = move.assignment
        after = due_step(move.assignment, due.index + 1, now)
        sla = move.assignment.sla_due
        return StepOutcome(
            step=due.index + 1,
            moved_to=move.pool_id if move.moved else None,
            sla_due=parse_time(sla) if move.moved and sla else None,
            next_due=after.next_due,
            why=move.why,
        )


def run_week(
    arrivals: Sequence[Arrival], config: RoutingConfig, settings: SimSettings, start: datetime
) -> SimRun:
    """Simulate ``arrivals`` through ``config`` with the service's SLA steps."""
    return simulate(arrivals, config, settings, SlaSteps(config), start=start)


def what_if(
    arrivals: Sequence[Arrival],
    config: RoutingConfig,
    settings: SimSettings,
    report: ReportSettings,
    other: RoutingConfig | None = None,
) -> dict[str, Any]:
    """The whole report: one run per config on the same arrivals, and with ``other``
    what changes from the first to the second."""
    runs = [run_week(arrivals, config, settings, report.start)]
    reports = [build_report(runs[0], report, label="a" if other else "")]
    if other is not None:
        runs.append(run_week(arrivals, other, settings, report.start))
        reports.append(build_report(runs[1], report, label="b"))
    out: dict[str, Any] = {
        "week": {
            "start": report.start.isoformat(),
            "end": report.end.isoformat(),
            "zone": report.zone.key,
            "hours": report.hours,
        },
        "settings": {
            "seed": settings.seed,
            "handle_minutes": {
                tier: round(s / 60, 3) for tier, s in settings.handle.mean_seconds.items()
            },
            "handle_default_minutes": round(settings.handle.default_seconds / 60, 3),
            "handle_distribution": settings.handle.distribution,
            "lease_expiry_share": settings.lease_expiry_share,
            "lease_seconds": settings.lease_seconds,
            "drain_hours": round(settings.drain_seconds / 3600, 2),
        },
        "arrivals": len(arrivals),
        "runs": reports,
    }
    if other is not None:
        out["difference"] = compare(runs[0], reports[0], runs[1], reports[1])
    return out


class Refused(ValueError):
    """Input a simulation cannot run on: ``field`` names what is wrong (as the CLI's
    option or the API's body field says it), ``message`` what."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type[Refused], tuple[str | None, str]]:
        # Raised in a worker process and pickled back: both arguments, not ``args``.
        return (Refused, (self.field, self.message))


@dataclass(frozen=True, slots=True)
class Loaded:
    """Arrivals read from a source, and the lines refused (``line N: problem``)."""

    arrivals: list[Arrival]
    refused: list[str]
    classified: int = 0


def generated(spec: GeneratorSpec, week: date | None, zone: ZoneInfo, seed: int) -> Loaded:
    """A synthetic week of ``spec`` in the week holding ``week`` (default today in
    ``zone``); :class:`Refused` naming ``generate`` when the spec does not hold."""
    day = week or datetime.now(UTC).astimezone(zone).date()
    start, end = week_bounds(day, zone)
    try:
        return Loaded(generate(spec, start, end, seed), [])
    except ValueError as exc:
        raise Refused("generate", str(exc)) from None


def recent_arrivals(records: Sequence[tuple[str, bytes]]) -> Loaded:
    """Arrivals of stored assignment records ``(ticket id, record)``, in time order."""
    arrivals: list[Arrival] = []
    refused: list[str] = []
    for ticket_id, raw in records:
        try:
            assignment = Assignment.decode(raw)
            ticket = ticket_from_object(dict(assignment.ticket))
            at = ticket.created_at or parse_time(assignment.received_at)
        except (InvalidInput, ValueError, KeyError, TypeError) as exc:
            refused.append(f"ticket {ticket_id}: {exc}")
            continue
        arrivals.append(Arrival(ticket, assignment.prediction(), at))
    arrivals.sort(key=lambda a: a.at.timestamp())
    return Loaded(arrivals, refused)


def in_week(
    arrivals: Sequence[Arrival], week: date | None, zone: ZoneInfo
) -> tuple[list[Arrival], datetime, datetime, int]:
    """The arrivals in the week holding ``week`` (default: the first arrival's), the
    week's bounds and how many were left outside; :class:`Refused` when none is left."""
    if not arrivals:
        raise Refused(None, "no arrivals to replay")
    day = week or arrivals[0].at.astimezone(zone).date()
    start, end = week_bounds(day, zone)
    kept = [a for a in arrivals if start <= a.at < end]
    if not kept:
        raise Refused("week", f"no arrivals in the week from {start.isoformat()}")
    return kept, start, end, len(arrivals) - len(kept)


def week_report(
    loaded: Loaded,
    source: Mapping[str, Any],
    config: RoutingConfig,
    other: RoutingConfig | None,
    *,
    zone: ZoneInfo,
    week: date | None,
    settings: SimSettings,
    target_wait_seconds: float,
    target_level: float,
) -> dict[str, Any]:
    """The report ``ticket-router simulate --json`` writes and ``POST /v1/simulate``
    answers: the week's arrivals through ``config`` (and ``other``), with what the
    source held (``source`` and the counts of refused and outside the week)."""
    arrivals, start, end, outside = in_week(loaded.arrivals, week, zone)
    report = ReportSettings(start, end, zone, target_wait_seconds, target_level)
    result = what_if(arrivals, config, settings, report, other)
    result["source"] = {
        **source,
        "refused": len(loaded.refused),
        "outside_week": outside,
        "classified": loaded.classified,
    }
    return result


@dataclass(frozen=True, slots=True)
class WhatIfJob:
    """A simulation to run in a worker process: plain data only (a compiled config
    holds locks and cannot be pickled, so the configs travel as their documents, each
    with its version, and are compiled again where they run)."""

    config: Mapping[str, Any]
    config_source: str
    other: Mapping[str, Any] | None
    other_source: str
    source: Mapping[str, Any]
    zone: str
    week: date | None
    settings: SimSettings
    target_wait_seconds: float
    target_level: float
    spec: GeneratorSpec | None = None
    records: Sequence[tuple[str, bytes]] = ()


def run_job(job: WhatIfJob) -> dict[str, Any]:
    """The report of ``job``: its arrivals (generated from ``spec``, else the stored
    ``records``) through its configs, as :func:`week_report` builds it."""
    zone = ZoneInfo(job.zone)
    config = parse_config(job.config, source=job.config_source)
    other = parse_config(job.other, source=job.other_source) if job.other is not None else None
    if job.spec is not None:
        loaded = generated(job.spec, job.week, zone, job.settings.seed)
    else:
        loaded = recent_arrivals(job.records)
    return week_report(
        loaded,
        job.source,
        config,
        other,
        zone=zone,
        week=job.week,
        settings=job.settings,
        target_wait_seconds=job.target_wait_seconds,
        target_level=job.target_level,
    )
