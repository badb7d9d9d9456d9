"""Why each pool was not chosen: the lines of ``Decision.excluded``.

Each pool gets the first check it failed, in the order the policy applies them. With
tens of pools this runs for every decision, so pools are handled a mask at a time: the
ids of a mask are picked in C (``itertools.compress``) instead of a loop per pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import compress
from typing import NamedTuple

# bin() digits as bytes 0/1, for itertools.compress to select ids by a mask in C.
_BITS = bytes.maketrans(b"01", b"\x00\x01")


class PoolNames:
    """Pool ids by position, and the ids of the pools in a mask, by position.

    The same masks come back all the time (a rule's non-targets, a region's forbidden
    pools, the pools closed this hour), so the answers are remembered, up to a bound.
    """

    __slots__ = ("_seen", "ids")
    _LIMIT = 16384

    def __init__(self, ids: tuple[str, ...]) -> None:
        self.ids = ids
        self._seen: dict[int, tuple[str, ...]] = {}

    def of(self, mask: int) -> tuple[str, ...]:
        """The ids of the pools in ``mask``, by position."""
        found = self._seen.get(mask)
        if found is None:
            found = tuple(compress(self.ids, bin(mask)[:1:-1].encode().translate(_BITS)))
            if len(self._seen) >= self._LIMIT:
                self._seen.clear()  # a bound, not an LRU: refilling is cheap
            self._seen[mask] = found
        return found


class Checks(NamedTuple):
    """The masks of pools passing each check of one decision, and what it was about."""

    rule_id: str
    strategy: str
    region: str
    language: str
    tier: str
    category: str
    in_house: bool
    target: int
    residency: int
    allowed: int
    language_mask: int
    tier_mask: int
    category_mask: int
    open_now: int


def explain(
    names: PoolNames, all_pools: int, chosen: int, checks: Checks, full: Mapping[int, str]
) -> dict[str, str]:
    """Pool id -> why it was not chosen, for every pool but ``chosen``; ``full`` gives the
    line of each pool that passed every check but was at capacity. Pools are listed by
    the check they failed, then by position."""
    c = checks
    steps = (
        (c.target, f"not a target of rule {c.rule_id}"),
        (c.residency, f"residency: {c.region} customers not allowed"),
        # Residency failures are already named: what else ``allowed`` lacks is data policy.
        (
            c.allowed | ~c.residency,
            "in-house handling required" if c.in_house else "full data access required",
        ),
        (c.language_mask, f"no language {c.language}"),
        (c.tier_mask, f"no tier {c.tier}"),
        (c.category_mask, f"no category {c.category}"),
        (c.open_now, "closed"),
    )
    out: dict[str, str] = {}
    remaining = all_pools & ~(1 << chosen)
    for mask, why in steps:
        failed = remaining & ~mask
        if failed:
            # A plain loop: faster than dict.fromkeys + update for a few dozen ids.
            for pool_id in names.of(failed):
                out[pool_id] = why
            remaining &= mask
    for i, line in full.items():
        if remaining >> i & 1:
            out[names.ids[i]] = line
            remaining &= ~(1 << i)
    if remaining:
        out.update(dict.fromkeys(names.of(remaining), f"eligible, not chosen ({c.strategy})"))
    return out
