"""The failed-authentication limiter: a token bucket per client address."""

from __future__ import annotations

import pytest

from router.http.auth import FailureLimiter


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_a_steady_rate_per_address() -> None:
    clock = Clock()
    limiter = FailureLimiter(burst=5, per_second=2.0, clock=clock)
    for _ in range(5):
        assert limiter.retry_after("10.0.0.1") == 0
        limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == pytest.approx(0.5)
    assert limiter.retry_after("10.0.0.2") == 0  # another address is not affected
    clock.now += 0.5
    assert limiter.retry_after("10.0.0.1") == 0  # one more try has refilled
    limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == pytest.approx(0.5)
    clock.now += 3600
    for _ in range(5):  # refilled to the burst, never beyond it
        assert limiter.retry_after("10.0.0.1") == 0
        limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") > 0


def test_memory_stays_bounded_and_the_oldest_addresses_go_first() -> None:
    clock = Clock()
    limiter = FailureLimiter(burst=1, per_second=0.001, clock=clock, max_clients=3)
    for address in ("a", "b", "c"):
        limiter.failed(address)
    limiter.failed("a")  # "a" is the most recent now
    limiter.failed("d")  # evicts "b", the least recent
    assert limiter.retry_after("a") > 0
    assert limiter.retry_after("b") == 0
    assert limiter.retry_after("c") > 0 and limiter.retry_after("d") > 0
