"""What an outsourced vendor can see, against the running service: nothing in clear.

Tickets full of planted personal data (``tests.pii_tickets``: e-mails, phones, cards,
IBANs, national ids, IP addresses in many formats, in every field, key, list and
number) go through the real service (AMQP and ``POST /v1/tickets``) to a masked
outsourced pool. Everything the vendor can read is then searched for every fragment
of every item: the pool queue's messages, the pull API's lease grants,
``GET /v1/tickets/{id}`` with the vendor's token, the pool status and listing. A
table of planted / delivered / in clear by format and by location is printed. Text
the router adds (an agent's escalation reason, SLA moves) is checked in what the
next masked pool receives, and no copy may name another pool or vendor. Card tickets
with a ``require_in_house`` rule must never reach an outsourced pool.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from aiohttp import ClientSession

from router.http.appkeys import DESK
from router.service.escalation import due_step
from router.service.settings import Names
from tests.dp_config import (
    ESCALATION_TARGET,
    IN_HOUSE,
    MASKED,
    OUTSOURCED,
    POOLS,
    RIVAL,
    dp_config,
)
from tests.integration.conftest import ServiceFactory, drain
from tests.integration.data_protection_helpers import (
    Desk,
    Tally,
    languages,
    pool_views,
    pull_everything,
    queued,
    send_all,
    wait_routed,
)
from tests.integration.test_leases_helpers import Agent, make_tokens, write_config
from tests.pii_item import Item
from tests.pii_plants import (
    CARD_BRANDS,
    CARD_VARIANTS,
    OTHER_VENDOR_AGENT,
    card_item,
    card_number,
    plant,
)
from tests.pii_tickets import (
    LOCATIONS,
    PlantedTicket,
    base_ticket,
    compatible,
    place,
    planted_tickets,
)

pytestmark = pytest.mark.integration

TICKETS = 620
VIA_HTTP = 120
CLAIMED = 150  # leased through claim (a queue consumer), the rest through assignments/next
SHARED_CUSTOMERS = 10  # customer ids that come back on several tickets
PSEUDONYM_KEY = "data-protection-test-pseudonym-key"


@pytest.fixture
async def desk_for(
    start_service: ServiceFactory,
    redis_client: aioredis.Redis,
    names: Names,
    model_dir: Path,
    tmp_path: Path,
    extra_pools: list[str],
) -> AsyncIterator[Callable[..., Awaitable[Desk]]]:
    """Start the service with the data-protection config; (service, tokens, session)."""
    extra_pools.extend(POOLS)  # their queues are deleted after the test
    sessions: list[ClientSession] = []

    async def start(card_rule: bool = False, first: str = MASKED) -> Desk:
        doc = dp_config(languages(model_dir), card_rule=card_rule, first=first)
        service = await start_service(
            config_path=write_config(tmp_path / "dp.json", doc), pseudonym_key=PSEUDONYM_KEY
        )
        session = ClientSession()
        sessions.append(session)
        return service, await make_tokens(redis_client, names, POOLS), session

    yield start
    for session in sessions:
        await session.close()


async def test_a_masked_vendor_receives_no_personal_data_in_clear(
    desk_for: Callable[..., Awaitable[Desk]],
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
    suffix: str,
) -> None:
    desk = await desk_for()
    planted = planted_tickets(TICKETS, seed=20261201, prefix=f"{suffix}-dp")
    by_id = {p.ticket["id"]: p for p in planted}
    returning = _returning_customers(planted)
    tally = Tally()
    for p in planted:
        tally.plant(p.placed)
    assert sum(tally.planted.values()) >= 2000
    assert len({fmt.split("/")[0] for fmt, _ in tally.planted}) == 6
    assert len({fmt for fmt, _ in tally.planted}) >= 15
    assert {loc for _, loc in tally.planted} == set(LOCATIONS)

    await send_all(desk, amqp, names, [p.ticket for p in planted], via_http=VIA_HTTP)
    await wait_routed(redis_client, names, amqp, list(by_id))
    everything = [pair for p in planted for pair in p.placed]
    for view in await pool_views(desk, MASKED):
        tally.check("status", view, everything, MASKED)  # status and listing: nothing at all
    assert await _refused_to_other_vendors(desk, sorted(by_id)[:40]) == []
    messages = await queued(amqp, names, MASKED)
    grants, reads = await pull_everything(desk, MASKED, claim=sorted(messages)[:CLAIMED])
    for kind, docs in (("queue", messages), ("pull", grants),
                       ("get", reads)):  # fmt: skip
        for ticket_id, document in docs.items():
            tally.check(kind, document, by_id[ticket_id].placed, MASKED)
    print("\n" + tally.table())

    assert (len(messages), len(grants), len(reads)) == (TICKETS, TICKETS, TICKETS)
    assert {m["pool_id"] for m in messages.values()} == {MASKED}
    assert all(m["ticket_masked"] is True for m in messages.values())
    assert tally.in_clear() == 0, tally.in_clear()
    assert not tally.foreign, dict(tally.foreign)
    # A returning customer is recognisable (one pseudonym per customer id), not identifiable.
    seen: dict[str, set[str]] = {}
    for docs in (messages, reads):
        for tid, doc in docs.items():
            if tid in returning:
                seen.setdefault(returning[tid], set()).add(_delivered_customer_id(doc))
    assert len(seen) == SHARED_CUSTOMERS and all(len(v) == 1 for v in seen.values()), seen
    pseudonyms = {v.pop() for v in seen.values()}
    assert len(pseudonyms) == SHARED_CUSTOMERS and all(p.startswith("cus_") for p in pseudonyms)
    assert not pseudonyms & set(seen)
    # The vendor still gets the handles it works with: the ticket id in every copy.
    for kind, docs in (("queue", messages), ("get", reads)):
        assert [t for t, d in docs.items() if d.get("assignment", d)["ticket_id"] != t] == [], kind


def _returning_customers(planted: list[PlantedTicket]) -> dict[str, str]:
    """Give tickets without a planted customer id one of a few shared customer ids:
    ticket id -> customer id."""
    out: dict[str, str] = {}
    for n, p in enumerate(planted):
        if n % 4 == 0 and all(loc != "customer.id" for _, loc in p.placed):
            shared = f"acct-{len(out) % SHARED_CUSTOMERS}"
            p.ticket["customer"]["id"] = out[p.ticket["id"]] = shared
    return out


def _delivered_customer_id(document: dict[str, Any]) -> str:
    return str(document.get("assignment", document)["ticket"]["customer"]["id"])


async def _refused_to_other_vendors(desk: Desk, ticket_ids: list[str]) -> list[Any]:
    """Another vendor's token reading these tickets or the pool: every answer that is not
    a 403 (the same answer as for an unknown id)."""
    service, tokens, http = desk
    token = {"Authorization": f"Bearer {tokens[f'agent:{ESCALATION_TARGET}']}"}
    paths = [f"/v1/tickets/{t}" for t in ticket_ids]
    paths += [f"/v1/pools/{MASKED}", f"/v1/pools/{MASKED}/assignments"]
    answered = []
    for path in paths:
        async with http.get(service.url + path, headers=token) as response:
            if response.status != 403:
                answered.append((path, response.status, await response.text()))
    return answered


def _reason_items(seed: int) -> list[Item]:
    return [
        plant(f, seed)
        for f in ("email/plain", "card/spaces", "phone/e164-spaced", "phone/known-case")
    ]


async def test_router_text_reaching_the_next_masked_pool_is_masked_and_names_no_pool(
    desk_for: Callable[..., Awaitable[Desk]],
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
    suffix: str,
) -> None:
    desk = await desk_for()
    service, tokens, http = desk
    planted = planted_tickets(2, seed=7, prefix=f"{suffix}-esc")
    by_id = {p.ticket["id"]: p for p in planted}
    await send_all(desk, amqp, names, [p.ticket for p in planted])
    await wait_routed(redis_client, names, amqp, list(by_id))
    channel = await amqp.channel()
    assert len(await drain(channel, names.pool_queue(MASKED))) == 2
    vendor_side: list[Any] = []  # what the first vendor hears about the move

    # An agent of the first vendor escalates one ticket with personal data in the reason.
    ana = Agent(http, service.url, MASKED, tokens[f"agent:{MASKED}"], OTHER_VENDOR_AGENT.written)
    status, grant = await ana.pull()
    assert status == 200
    escalated = grant["lease"]["ticket_id"]
    items = _reason_items(3)
    reason = "Customer " + ", ".join(i.written for i in items) + " asked for a supervisor"
    status, moved = await ana.act(escalated, "escalate", lease_id=grant["lease"]["lease_id"],
                                  reason=reason)  # fmt: skip
    assert (status, moved["moved"]) == (200, True), moved
    vendor_side.append(moved)
    status, refused = await ana.act(escalated, "accept", lease_id=grant["lease"]["lease_id"])
    assert status == 409
    vendor_side.append(refused)
    # The ticket is no longer the first vendor's: reading it is refused like an unknown id.
    async with http.get(
        f"{service.url}/v1/tickets/{escalated}", headers={"Authorization": f"Bearer {ana.token}"}
    ) as response:
        assert response.status == 403, await response.text()
        vendor_side.append(await response.json())
    by_id[escalated].placed.extend((i, "escalation.reason") for i in items)
    by_id[escalated].placed.append((OTHER_VENDOR_AGENT, "escalation.agent"))

    # The other one is not accepted in time: the intake rule's SLA step moves it. The
    # step is due in 30 minutes; rather than wait, do what the sweeper does at that time.
    [waiting] = set(by_id) - {escalated}
    agent_desk = service.app[DESK]
    await agent_desk.store.discover(MASKED)  # the sweeper's first look, not left to chance
    later = await agent_desk.store.server_ms() + 31 * 60_000
    due = await agent_desk.store.due(later)
    [(ticket_id, used, raw, state)] = [d for d in due if d[0] == waiting]
    record = orjson.loads(raw)
    now = datetime.fromtimestamp(later / 1000, UTC)
    step = due_step(record, used, now)
    assert (state, step.index) == ("assigned", 0)
    loads = await agent_desk.store.loads(POOLS)
    assert await agent_desk.mover.by_sla(ticket_id, record, used, 0, now, loads)

    tally = Tally()
    for p in planted:
        tally.plant(p.placed)
    messages = await queued(amqp, names, ESCALATION_TARGET)
    grants, reads = await pull_everything(desk, ESCALATION_TARGET, agents=1)
    for kind, docs in (("queue", messages), ("pull", grants),
                       ("get", reads)):  # fmt: skip
        for tid, document in docs.items():
            tally.check(kind, document, by_id[tid].placed, ESCALATION_TARGET)
    for answer in vendor_side:
        tally.check("pull", answer, [], MASKED)
    print("\n" + tally.table())
    assert sorted(messages) == sorted(by_id)
    assert sorted(grants) == sorted(reads) == sorted(by_id)
    kinds = sorted(g["assignment"]["moves"][-1]["kind"] for g in grants.values())
    assert kinds == ["agent", "sla"]
    assert tally.in_clear() == 0, tally.in_clear()
    assert not tally.foreign, dict(tally.foreign)


async def test_a_full_access_vendor_sees_the_ticket_but_no_other_pool(
    desk_for: Callable[..., Awaitable[Desk]],
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
    suffix: str,
) -> None:
    desk = await desk_for(first=RIVAL)
    planted = planted_tickets(30, seed=11, prefix=f"{suffix}-full")
    by_id = {p.ticket["id"]: p for p in planted}
    await send_all(desk, amqp, names, [p.ticket for p in planted])
    await wait_routed(redis_client, names, amqp, list(by_id))
    messages = await queued(amqp, names, RIVAL)
    grants, reads = await pull_everything(desk, RIVAL, agents=2)
    tally = Tally()
    for kind, docs in (("queue", messages), ("pull", grants), ("get", reads)):
        for tid, document in docs.items():
            tally.check(kind, document, [], RIVAL)
            assignment = document.get("assignment", document)
            # Full data access: the ticket as sent (the vendor's contract allows it) ...
            assert assignment["ticket"] == by_id[tid].ticket, (kind, tid)
    assert sorted(messages) == sorted(grants) == sorted(reads) == sorted(by_id)
    # ... but nothing about the other pools: no excluded map, no id, name or vendor.
    assert not tally.foreign, dict(tally.foreign)


CARD_FORMATS = ("bare", "spaces", "dashes", "dots", "nbsp", "fullwidth", "zwsp", "grouped")
CARD_LOCATIONS = ("subject", "body", "metadata.depth1", "metadata.key", "tags",
                  "customer.plan", "unknown.value", "source", "metadata.list")  # fmt: skip


# Every other way of writing a card, with fewer cards each.
MORE_CARD_FORMATS = tuple(v for v in CARD_VARIANTS if v not in CARD_FORMATS)


def card_tickets(prefix: str) -> list[PlantedTicket]:
    """15 Luhn-valid cards (every brand) x 8 formats x 9 locations, then 3 cards x every
    other format x 9 locations; one card a ticket."""
    brands = list(CARD_BRANDS)
    cards = [card_number(random.Random(k), brands[k % len(brands)]) for k in range(15)]
    cases = [(c, v, loc) for c in cards for v in CARD_FORMATS for loc in CARD_LOCATIONS]
    cases += [
        (c, v, loc)
        for c in cards[:3]
        for v in MORE_CARD_FORMATS
        for loc in CARD_LOCATIONS
        if compatible(card_item(c, v), loc)  # "pro <combining digits>" is past 64 characters
    ]
    out = []
    for n, (card, variant, location) in enumerate(cases):
        rng = random.Random(n)
        planted = PlantedTicket(base_ticket(rng, f"{prefix}-{n:05d}"))
        item = card_item(card, variant)
        place(planted.ticket, item, location, rng, 0)
        planted.placed.append((item, location))
        out.append(planted)
    return out


async def test_card_tickets_in_every_format_and_place_stay_in_house(
    desk_for: Callable[..., Awaitable[Desk]],
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
    suffix: str,
) -> None:
    desk = await desk_for(card_rule=True)
    planted = card_tickets(f"{suffix}-card")
    assert len(planted) > 15 * 8 * 9 + 3 * len(MORE_CARD_FORMATS) * 8
    await send_all(desk, amqp, names, [p.ticket for p in planted])
    await wait_routed(redis_client, names, amqp, [p.ticket["id"] for p in planted])
    channel = await amqp.channel()
    landed: dict[str, str] = {}
    for pool_id in POOLS:
        for message in await drain(channel, names.pool_queue(pool_id)):
            landed[str(message.message_id)] = pool_id
    outside: Counter[tuple[str, str]] = Counter()
    for p in planted:
        [(item, location)] = p.placed
        if landed.get(p.ticket["id"]) != IN_HOUSE:
            outside[item.fmt, location] += 1
    required = sum(v for (fmt, _), v in outside.items() if fmt.split("/")[1] in CARD_FORMATS)
    print(f"\ncard tickets on an outsourced pool: {required} of {15 * 8 * 9} (15 cards x 8 formats"
          f" x 9 locations), {sum(outside.values()) - required} of {len(planted) - 15 * 8 * 9}"
          f" in {len(MORE_CARD_FORMATS)} more formats")  # fmt: skip
    print(f"  {'':21} " + " ".join(loc[:3] for loc in CARD_LOCATIONS))
    for variant in (*CARD_FORMATS, *MORE_CARD_FORMATS):
        row = " ".join(f"{outside[f'card/{variant}', loc]:3}" for loc in CARD_LOCATIONS)
        print(f"  card/{variant:16} {row}")
    assert len(landed) == len(planted)
    assert Counter(landed.values())[IN_HOUSE] == len(planted), Counter(landed.values())
    assert not set(landed.values()) & set(OUTSOURCED)
