"""Erlang C against published values, and against the textbook formula computed here
independently (exact fractions: the sum of ``A^k / k!`` and the queueing term)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from router.core.sim.erlang import (
    agents_needed,
    average_wait,
    erlang_b,
    erlang_c,
    service_level,
)


def textbook_c(agents: int, traffic: Fraction) -> Fraction:
    """P(wait) = (A^N/N! * N/(N-A)) / (sum_{k<N} A^k/k! + A^N/N! * N/(N-A))."""
    queued = traffic**agents / math.factorial(agents) * Fraction(agents) / (agents - traffic)
    idle = sum(traffic**k / math.factorial(k) for k in range(agents))
    return queued / (idle + queued)


def textbook_b(agents: int, traffic: Fraction) -> Fraction:
    """P(block) = (A^N/N!) / sum_{k<=N} A^k/k!."""
    top = traffic**agents / math.factorial(agents)
    return top / sum(traffic**k / math.factorial(k) for k in range(agents + 1))


# The classic call-centre example (Call Centre Helper, "Erlang C formula - made simple
# with an easy worked example"; the same figure is in Erlang C tables): 100 calls in
# 30 minutes with a 3-minute handle time is A = 10 Erlangs; with 11 agents the
# probability of waiting is 0.6821.
def test_ten_erlangs_on_eleven_agents_wait_with_probability_0_6821() -> None:
    assert round(erlang_c(11, 10.0), 4) == 0.6821


# Vicente Ripoll's Erlang C calculator, worked example
# (http://personal.telefonica.terra.es/web/vr/erlang/eng/mcerlc.htm): "600 calls with
# call length of 120 seconds, that is a traffic of 20 erlangs. For a target delay
# probability of 15% the number of circuits needed are 26 ... 3 seconds per call. If
# circuits are incremented to 30, delay is reduced to 2.5%. Those 30 circuits with 15%
# of delay could attend a traffic of 23.6 erlangs."
def test_the_twenty_erlang_worked_example() -> None:
    assert erlang_c(25, 20.0) > 0.15 >= erlang_c(26, 20.0)  # 26 circuits are the fewest
    assert round(average_wait(26, 20.0, 120.0)) == 3  # seconds per call
    assert round(erlang_c(30, 20.0), 3) == 0.025
    # The most traffic 30 circuits carry at 15% delay: 23.6 Erlangs (bisection).
    low, high = 20.0, 29.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if erlang_c(30, mid) < 0.15 else (low, mid)
    assert round(low, 1) == 23.6


# A textbook exercise quoted on Math Stack Exchange ("Calculate the probability of a
# customer joining a queue via Erlang C curve"): 120 customers an hour, 3 minutes
# each, 10 assistants, "the probability of waiting is about 0.10".
def test_six_erlangs_on_ten_servers_wait_about_a_tenth_of_the_time() -> None:
    assert round(erlang_c(10, 6.0), 2) == 0.10


@pytest.mark.parametrize(
    ("agents", "traffic"),
    [(1, Fraction(1, 2)), (2, Fraction(3, 2)), (11, Fraction(10)), (14, Fraction(10)),
     (26, Fraction(20)), (30, Fraction(236, 10)), (60, Fraction(5525, 100))],
)  # fmt: skip
def test_erlang_b_and_c_equal_the_textbook_formulas(agents: int, traffic: Fraction) -> None:
    assert erlang_c(agents, float(traffic)) == pytest.approx(
        float(textbook_c(agents, traffic)), rel=1e-12
    )
    assert erlang_b(agents, float(traffic)) == pytest.approx(
        float(textbook_b(agents, traffic)), rel=1e-12
    )


def test_the_service_level_of_the_classic_example_by_agents() -> None:
    # 80% of calls within 20 seconds at 10 Erlangs and 180 s handle time:
    # SL = 1 - C(N, A) e^{-(N - A) t / AHT}, computed from the exact C.
    def expected(agents: int) -> float:
        c = float(textbook_c(agents, Fraction(10)))
        return 1 - c * math.exp(-(agents - 10) * 20 / 180)

    for agents in (11, 12, 13, 14, 15):
        assert service_level(agents, 10.0, 180.0, 20.0) == pytest.approx(expected(agents))
    assert round(service_level(13, 10.0, 180.0, 20.0), 4) == 0.7956
    assert round(service_level(14, 10.0, 180.0, 20.0), 4) == 0.8884
    staffing = agents_needed(10.0, 180.0, 20.0, 0.8)
    assert staffing.agents == 14
    assert round(staffing.service_level, 4) == 0.8884
    assert round(staffing.wait_probability, 4) == 0.1741
    assert round(staffing.average_wait_seconds, 1) == 7.8


def test_unstable_and_empty_queues() -> None:
    assert erlang_c(10, 10.0) == 1.0
    assert erlang_c(3, 7.5) == 1.0
    assert service_level(10, 10.0, 60.0, 20.0) == 0.0
    assert average_wait(9, 10.0, 60.0) == math.inf
    assert erlang_c(5, 0.0) == 0.0
    assert service_level(0, 0.0, 60.0, 20.0) == 1.0
    assert agents_needed(0.0, 60.0, 20.0, 0.8).agents == 0
    # Just above the traffic the queue is stable but slow: more agents are needed.
    assert agents_needed(0.2, 600.0, 1200.0, 0.8).agents == 1
    # By hand, A = 1, t / AHT = 0.1: N = 3 gives C = 0.25 / 2.75 and SL = 1 - C e^-0.2 =
    # 0.926 < 0.95; N = 4 gives C = (1/18) / (49/18) = 1/49 and SL = 0.985.
    assert agents_needed(1.0, 600.0, 60.0, 0.95).agents == 4
    assert round(agents_needed(1.0, 600.0, 60.0, 0.95).wait_probability, 6) == round(1 / 49, 6)


def test_large_pools_stay_finite() -> None:
    # 380^400 / 400! and its neighbours overflow a float; the Erlang B recursion never
    # forms them, and matches the exact fractions.
    exact = float(textbook_c(400, Fraction(380)))
    assert erlang_c(400, 380.0) == pytest.approx(exact, rel=1e-9)
    assert 0 < exact < 1
    staffing = agents_needed(1000.0, 480.0, 1200.0, 0.8)
    assert service_level(staffing.agents, 1000.0, 480.0, 1200.0) >= 0.8
    assert service_level(staffing.agents - 1, 1000.0, 480.0, 1200.0) < 0.8


@pytest.mark.parametrize(
    "bad",
    [lambda: erlang_c(-1, 1.0), lambda: erlang_c(2, -0.5), lambda: erlang_c(2, math.nan),
     lambda: agents_needed(1.0, 60.0, 20.0, 1.0), lambda: service_level(2, 1.0, 0.0, 20.0)],
)  # fmt: skip
def test_out_of_range_arguments_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        bad()  # type: ignore[operator]
