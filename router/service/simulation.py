"""The what-if simulator's SLA escalation: the service's own steps, in simulated time.

:class:`SlaSteps` is the :class:`router.core.sim.engine.Escalations` the simulation
runs with. It keeps each planned ticket's assignment record as the service would store
it and carries out a due step exactly as the lease sweeper does: :func:`due_step` says
which step (the latest one due), :func:`sla_move` re-decides among its pools. So a
simulated move is the move the service would make, residency and data policy included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from router.config.load import RoutingConfig
from router.core.assignment import Assignment
from router.core.domain import Decision
from router.core.sim.arrivals import Arrival
from router.core.sim.engine import SimRun, SimSettings, StepOutcome, simulate
from router.core.sim.report import ReportSettings, build_report, compare
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
