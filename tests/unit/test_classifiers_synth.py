"""The synthetic ticket generator's realistic mode: what it adds, and what it leaves alone."""

from __future__ import annotations

from classifiers.synth import generate_tickets
from classifiers.synth_phrases import CLIENT_FOOTERS, QUOTE_HEADERS
from classifiers.textclean import strip_noise


def test_realistic_tickets_differ_in_their_bodies_only() -> None:
    plain = generate_tickets(200, 11)
    real = generate_tickets(200, 11, realistic=True)
    assert plain == generate_tickets(200, 11)  # the option leaves the plain tickets alone
    assert real == generate_tickets(200, 11, realistic=True)
    for p, r in zip(plain, real, strict=True):
        assert {k: v for k, v in p.items() if k != "body"} == {
            k: v for k, v in r.items() if k != "body"
        }
    changed = sum(p["body"] != r["body"] for p, r in zip(plain, real, strict=True))
    assert 40 < changed < 160


def test_realistic_tickets_quote_the_agent_and_carry_client_footers() -> None:
    real = generate_tickets(300, 12, realistic=True)
    quoted = [t for t in real if "\n> " in t["body"]]
    footers = [
        t for t in real if any(f in t["body"] for f in CLIENT_FOOTERS[t["labels"]["language"]])
    ]
    assert len(quoted) > 20 and len(footers) > 20
    for ticket in quoted:
        lang = ticket["labels"]["language"]
        # The header line the language's mail clients write sits above the quote.
        firsts = [h.split("{", 1)[0] for h in QUOTE_HEADERS[lang]]
        assert any(f"\n\n{first}" in ticket["body"] for first in firsts)
        # The cleaning the classifiers apply drops the quoted lines.
        cleaned = strip_noise(ticket["body"]).splitlines()
        assert not any(line.lstrip().startswith(">") for line in cleaned)
