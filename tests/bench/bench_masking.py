"""How long masking takes on the hot path.

Builds tickets of about 2 KB (subject + body, Faker text in several locales,
with an e-mail address, a phone number, a card number and an IBAN planted in
each) and prints per-call times for ``mask_text`` on the body,
``mask_ticket`` on the whole ticket, and ``contains_card_data``:

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

from router.masking import contains_card_data, mask_text, mask_ticket

LOCALES = ("en_US", "de_DE", "fr_FR", "pt_BR", "ja_JP")


def make_ticket(fake: Faker, size: int, i: int) -> dict[str, Any]:
    """A ticket whose body is ``size`` characters with personal data planted in it."""
    planted = (
        f" Reach me at {fake.email()} or {fake.phone_number()}."
        f" Card {fake.credit_card_number('visa16')}, IBAN {Faker('de_DE').iban()}."
    )
    text = ""
    while len(text) < size - len(planted):
        text += fake.sentence() + " "
    body = text[: size - len(planted)] + planted
    return {
        "id": f"bench-{i}",
        "subject": fake.sentence(),
        "body": body,
        "customer": {"id": f"c{i}", "email": fake.email(), "phone": fake.phone_number()},
        "tags": ["billing"],
        "metadata": {"order": "1234567890123456"},
    }


def per_call_us(fn: Callable[[Any], object], items: list[Any], rounds: int) -> list[float]:
    """Per-call times in microseconds, one per item and round."""
    times = []
    for _ in range(rounds):
        for item in items:
            start = time.perf_counter()
            fn(item)
            times.append((time.perf_counter() - start) * 1e6)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="tickets")
    parser.add_argument("--size", type=int, default=2048, help="body characters")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    tickets = []
    for i in range(args.n):
        fake = Faker(LOCALES[i % len(LOCALES)])
        fake.seed_instance(i)
        tickets.append(make_ticket(fake, args.size, i))
    bodies = [t["body"] for t in tickets]
    mask_ticket(tickets[0])  # warm up (first regex and metadata use)

    print(f"{args.n} tickets, body {args.size} chars, {args.rounds} rounds")
    for name, fn, items in (
        ("mask_text(body)", mask_text, bodies),
        ("mask_ticket(ticket)", mask_ticket, tickets),
        ("contains_card_data(body)", contains_card_data, bodies),
    ):
        times = sorted(per_call_us(fn, items, args.rounds))
        p50 = statistics.median(times)
        p99 = times[int(len(times) * 0.99) - 1]
        print(
            f"{name:26s} p50 {p50:8.0f} us  p99 {p99:8.0f} us  "
            f"mean {statistics.fmean(times):8.0f} us  ({1e6 / statistics.fmean(times):,.0f}/s)"
        )


if __name__ == "__main__":
    main()
