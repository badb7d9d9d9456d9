"""``for_pool``: the one function that makes a pool's copy of an assignment record."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from router.core.assignment import OTHER_POOL, Viewer, for_pool
from router.core.masking import Masker
from router.core.pii.pseudonym import pseudonym

KEY = b"assignment-test-pseudonym-key!!"
MASKER = Masker(KEY)


def _record(pool: str = "acme", kind: str = "outsourced", access: str = "masked") -> dict[str, Any]:
    return {
        "schema": 1,
        "ticket_id": "T-4111111111111111",
        "pool_id": pool,
        "pool_kind": kind,
        "data_access": access,
        "tier": "tier1",
        "priority": "high",
        "sla_due": "2026-03-04T12:30:00Z",
        "rule": "intake",
        "strategy": "ordered",
        "reasons": [
            "rule intake matched",
            f"ordered: {pool} of 2 eligible",
            "escalated to tier2 by agent bob: call ana@example.com or +44 20 7946 0958",
            "zenith: closed; hq-cards: at capacity (3/3)",
        ],
        "excluded": {"zenith": "closed", "hq-cards": "at capacity (3/3)"},
        "escalation": [{"after_seconds": 1800, "pools": ["zenith"]}],
        "moves": [
            {
                "at": "t1",
                "kind": "agent",
                "from": "hq-cards",
                "to": pool,
                "agent": "eve",
                "why": "card 4111 1111 1111 1111",
            },
            {
                "at": "t2",
                "kind": "sla",
                "step": 1,
                "from": pool,
                "to": pool,
                "agent": "bob",
                "why": "not accepted within 1800s: escalation step 1 to zenith; stays",
            },
        ],
        "escalation_base": "2026-03-04T12:00:00Z",
        "internal_note": "ops only: zenith is cheaper",
        "decided_at": "2026-03-04T12:00:00Z",
        "ticket": {
            "id": "T-4111111111111111",
            "subject": "Refund",
            "body": "mail me at ana@example.com",
            "customer": {"id": "cust-42", "country": "GB"},
        },
        "ticket_masked": False,
    }


def test_an_in_house_full_access_pool_sees_everything() -> None:
    record = _record("hq-cards", "in_house", "full")
    out = for_pool(record, MASKER)
    assert out == {**record, "ticket_masked": False}


def test_a_masked_vendor_gets_an_isolated_masked_copy() -> None:
    record = _record()
    before = copy.deepcopy(record)
    out = for_pool(record, MASKER)
    assert record == before  # the stored record (ops' view) is not touched
    assert "excluded" not in out
    assert "internal_note" not in out and "escalation_base" not in out  # not whitelisted
    assert out["ticket_id"] == "T-4111111111111111"  # the API handle, as sent
    assert out["pool_id"] == "acme"
    assert out["reasons"] == [
        "rule intake matched",
        "ordered: acme of 2 eligible",
        "escalated to tier2 by agent bob: call [email] or [phone]",
        f"{OTHER_POOL}: closed; {OTHER_POOL}: at capacity (3/3)",
    ]
    assert out["escalation"] == [{"after_seconds": 1800}]
    assert out["moves"] == [
        {"at": "t1", "kind": "agent", "from": OTHER_POOL, "to": "acme", "why": "card [card]"},
        {"at": "t2", "kind": "sla", "step": 1, "from": "acme", "to": "acme", "agent": "bob",
         "why": f"not accepted within 1800s: escalation step 1 to {OTHER_POOL}; stays"},
    ]  # fmt: skip
    assert out["ticket"]["body"] == "mail me at [email]"
    assert out["ticket"]["customer"]["id"] == pseudonym("cust-42", KEY)
    assert out["ticket_masked"] is True
    assert out["sla_due"] == "2026-03-04T12:30:00Z"  # times stay readable


def test_a_full_access_vendor_is_isolated_but_not_masked() -> None:
    out = for_pool(_record(access="full"), MASKER)
    assert "excluded" not in out
    assert out["reasons"][2] == (
        "escalated to tier2 by agent bob: call ana@example.com or +44 20 7946 0958"
    )
    assert out["reasons"][3] == f"{OTHER_POOL}: closed; {OTHER_POOL}: at capacity (3/3)"
    assert out["ticket"]["body"] == "mail me at ana@example.com"
    assert out["ticket_masked"] is False


def test_an_in_house_masked_pool_is_masked_and_isolated() -> None:
    out = for_pool(_record("hq-desk", "in_house", "masked"), MASKER)
    assert "excluded" not in out
    assert out["ticket"]["body"] == "mail me at [email]"


@pytest.mark.parametrize("missing", ["data_access", "pool_kind"])
def test_a_record_without_its_access_or_kind_fails_closed(missing: str) -> None:
    record = _record("hq-cards", "in_house", "full")
    del record[missing]
    out = for_pool(record, MASKER)
    assert "excluded" not in out
    if missing == "data_access":
        assert out["ticket_masked"] is True


def test_the_escalating_pool_does_not_learn_where_the_ticket_went() -> None:
    record = _record("zenith")  # moved from acme to zenith
    out = for_pool(record, MASKER, Viewer("acme", "outsourced", "masked"))
    assert out["pool_id"] == OTHER_POOL
    assert all("zenith" not in reason for reason in out["reasons"])
    assert out["ticket_masked"] is True


def test_other_pools_agents_are_not_named() -> None:
    # eve (of hq-cards) escalated the ticket here; bob is this pool's own agent.
    record = _record()
    record["reasons"].append("escalated to tier2 by agent eve: customer is upset")
    out = for_pool(record, MASKER)
    assert out["reasons"][-1] == "escalated to tier2 by agent [other agent]: customer is upset"
    assert out["reasons"][2].startswith("escalated to tier2 by agent bob:")


def test_every_router_text_is_scanned_not_only_the_ticket() -> None:
    record = _record()
    record["rule"] = "vip ana@example.com"
    record["config_version"] = "v 4111111111111111"
    out = for_pool(record, MASKER)
    assert (out["rule"], out["config_version"]) == ("vip [email]", "v [card]")
