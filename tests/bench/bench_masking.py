"""How long masking takes on the hot path.

Builds tickets of about 2 KB (subject + a body of Faker text in several locales)
in two kinds: with personal data planted (an e-mail address, a phone number, a card
number, an IBAN, an obfuscated e-mail and a no-break-spaced card in the body, an
e-mail as a metadata key, a customer id) and free of it. Prints per-ticket p50/p99
for ``Masker.ticket`` (the whole ticket, as a masked pool gets it), ``mask_text`` on
the body alone, ``ticket_has_card`` (the ``contains_card_data`` flag at ingestion)
and ``for_pool`` (the whole assignment copy for a masked vendor), each with the
detector's memo cleared first; then one ticket's path through a replica: the flag at
parse time, then ``for_pool`` on a fresh copy of the same JSON (the memo's effect):

    .venv/bin/python tests/bench/bench_masking.py --n 300 --size 2048
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import orjson

from router.core.assignment import for_pool
from router.core.masking import Masker, mask_text, ticket_has_card
from router.core.pii.detect import clear_memo

LOCALES = ("en_US", "de_DE", "fr_FR", "pt_BR", "ja_JP")
MASKER = Masker(b"benchmark-pseudonym-key-32-bytes")


def _text(fake: Faker, size: int) -> str:
    text = ""
    while len(text) < size:
        text += fake.sentence() + " "
    return text[:size]


def make_ticket(fake: Faker, size: int, i: int, *, pii: bool) -> dict[str, Any]:
    """A ticket whose body is ``size`` characters, with personal data planted if ``pii``."""
    planted = (
        f" Reach me at {fake.email()} or {fake.phone_number()}."
        f" Card {fake.credit_card_number('visa16')}, IBAN {Faker('de_DE').iban()}."
        " Or write to john at example dot com; old card 4111\u00a01111\u00a01111\u00a01111."
        if pii
        else ""
    )
    body = _text(fake, size - len(planted)) + planted
    return {
        "id": f"bench-{i}",
        "subject": fake.sentence(),
        "body": body,
        "customer": {
            "id": f"c{i}",
            "email": fake.email() if pii else None,
            "locale": "en-US",
            "country": "US",
            "plan": "pro",
        },
        "channel": "email",
        "created_at": "2026-03-04T12:00:00Z",
        "tags": ["billing", "refund"],
        "source": "zendesk",
        "metadata": {fake.email(): "cc"} if pii else {"order": "A-12345"},
    }


def assignment_of(ticket: dict[str, Any]) -> dict[str, Any]:
    """An assignment record for a masked vendor, as the router stores it."""
    return {
        "schema": 1,
        "ticket_id": ticket["id"],
        "pool_id": "vendor-acme",
        "pool_kind": "outsourced",
        "data_access": "masked",
        "tier": "tier1",
        "sla_due": "2026-03-04T12:30:00Z",
        "rule": "intake",
        "reasons": ["rule intake matched", "ordered: vendor-acme of 3 eligible"],
        "excluded": {"vendor-zenith": "closed", "hq": "no language ja"},
        "escalation": [{"after_seconds": 1800, "pools": ["vendor-zenith"]}],
        "decided_at": "2026-03-04T12:00:00Z",
        "ticket": ticket,
    }


def _flag_then_copy(record_json: bytes) -> None:
    """The flag on the ticket as parsed, then the masked copy of the stored record."""
    ticket_has_card(orjson.loads(record_json)["ticket"])
    for_pool(orjson.loads(record_json), MASKER)


def per_call_us(
    fn: Callable[[Any], object], items: list[Any], rounds: int, clock: Callable[[], float]
) -> list[float]:
    """Per-call times in microseconds, one per item and round, the memo cleared first."""
    times = []
    for _ in range(rounds):
        for item in items:
            clear_memo()
            start = clock()
            fn(item)
            times.append((clock() - start) * 1e6)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="tickets of each kind")
    parser.add_argument("--size", type=int, default=2048, help="body characters")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--wall",
        action="store_true",
        help="wall-clock time instead of the thread's CPU time (which other processes on a "
        "busy machine do not inflate)",
    )
    args = parser.parse_args()
    clock = time.perf_counter if args.wall else time.thread_time

    print(
        f"{args.n} tickets of each kind, body {args.size} chars, {args.rounds} rounds, "
        f"{'wall-clock' if args.wall else 'CPU'} time per call"
    )
    for pii in (True, False):
        tickets = []
        for i in range(args.n):
            fake = Faker(LOCALES[i % len(LOCALES)])
            fake.seed_instance(i)
            tickets.append(make_ticket(fake, args.size, i, pii=pii))
        bodies = [t["body"] for t in tickets]
        records = [assignment_of(t) for t in tickets]
        MASKER(tickets[0])  # warm up (first regex and metadata use)
        print("with personal data:" if pii else "free of personal data:")
        raw = [orjson.dumps(r) for r in records]
        for name, fn, items in (
            ("Masker.ticket(ticket)", MASKER, tickets),
            ("mask_text(body)", mask_text, bodies),
            ("ticket_has_card(ticket)", ticket_has_card, tickets),
            ("for_pool(record, masked)", lambda r: for_pool(r, MASKER), records),
            ("flag, then for_pool", lambda b: _flag_then_copy(b), raw),
        ):
            times = sorted(per_call_us(fn, items, args.rounds, clock))
            p50 = statistics.median(times)
            p99 = times[int(len(times) * 0.99) - 1]
            print(
                f"  {name:26s} p50 {p50:7.0f} us  p99 {p99:7.0f} us  "
                f"mean {statistics.fmean(times):7.0f} us  ({1e6 / statistics.fmean(times):,.0f}/s)"
            )


if __name__ == "__main__":
    main()
