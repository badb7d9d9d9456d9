"""Erlang C: how many agents a queue of randomly arriving tickets needs.

The M/M/N model: tickets arrive as a Poisson stream, handle times are exponential,
``N`` agents take them first come first served and nobody gives up. ``traffic`` is the
offered load in Erlangs, ``A = arrival rate x mean handle time`` (e.g. 200 tickets an
hour of 3 minutes each: A = 10). Pure arithmetic, no I/O.

The probability of waiting is computed from Erlang B by its recursion
``B(0) = 1, B(n) = A B(n-1) / (n + A B(n-1))`` and ``C = N B / (N - A (1 - B))``, which
never forms ``A^N`` or ``N!``, so it stays exact in floating point for thousands of
agents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: The most agents :func:`agents_needed` proposes (a pool's capacity cap in the config).
MAX_AGENTS = 100_000


def erlang_b(agents: int, traffic: float) -> float:
    """The probability that all ``agents`` are busy when nobody may queue (Erlang B)."""
    _check(agents, traffic)
    blocked = 1.0
    for n in range(1, agents + 1):
        blocked = traffic * blocked / (n + traffic * blocked)
    return blocked


def erlang_c(agents: int, traffic: float) -> float:
    """The probability that a ticket has to wait (Erlang C): 1 when ``agents <= traffic``,
    where the queue grows without end."""
    _check(agents, traffic)
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    blocked = erlang_b(agents, traffic)
    return agents * blocked / (agents - traffic * (1 - blocked))


def service_level(
    agents: int, traffic: float, handle_seconds: float, target_seconds: float
) -> float:
    """The share of tickets accepted within ``target_seconds``:
    ``1 - C e^(-(N - A) t / AHT)``; 0 when the queue is unstable."""
    if handle_seconds <= 0:
        raise ValueError("handle_seconds must be positive")
    waits = erlang_c(agents, traffic)
    if agents <= traffic and traffic > 0:
        return 0.0
    return 1.0 - waits * math.exp(-(agents - traffic) * target_seconds / handle_seconds)


def average_wait(agents: int, traffic: float, handle_seconds: float) -> float:
    """The mean wait in seconds over all tickets (ASA): ``C AHT / (N - A)``; infinite
    when the queue is unstable."""
    waits = erlang_c(agents, traffic)
    if waits == 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return waits * handle_seconds / (agents - traffic)


@dataclass(frozen=True, slots=True)
class Staffing:
    """The fewest agents meeting a service-level target, and what they achieve."""

    agents: int
    traffic: float
    service_level: float
    wait_probability: float
    average_wait_seconds: float


def agents_needed(
    traffic: float, handle_seconds: float, target_seconds: float, level: float
) -> Staffing:
    """The fewest agents for which :func:`service_level` reaches ``level`` (0..1).

    No traffic needs no agents. ``level`` 1 is never reached (the exponential tail), so
    it is refused.
    """
    if not 0 <= level < 1:
        raise ValueError("level must be in [0, 1)")
    _check(0, traffic)
    if traffic == 0:
        return Staffing(0, 0.0, 1.0, 0.0, 0.0)
    # Below floor(A) + 1 agents the queue is unstable: start there.
    agents = math.floor(traffic) + 1
    while True:
        achieved = service_level(agents, traffic, handle_seconds, target_seconds)
        if achieved >= level or agents >= MAX_AGENTS:
            return Staffing(
                agents,
                traffic,
                achieved,
                erlang_c(agents, traffic),
                average_wait(agents, traffic, handle_seconds),
            )
        agents += 1


def _check(agents: int, traffic: float) -> None:
    if agents < 0:
        raise ValueError("agents must be >= 0")
    if not traffic >= 0 or math.isinf(traffic):  # also refuses NaN
        raise ValueError("traffic must be a finite number >= 0")
