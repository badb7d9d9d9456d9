"""Realistic test tickets from the product's own synthetic generator."""

from __future__ import annotations

from typing import Any

from classifiers.synth import generate_tickets


def make_tickets(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` tickets in the inbound format with unique ids (labels removed)."""
    out = []
    for i, ticket in enumerate(generate_tickets(n, seed=seed)):
        ticket = {k: v for k, v in ticket.items() if k != "labels"}
        ticket["id"] = f"T{seed}-{i:06d}"
        out.append(ticket)
    return out
