"""The audit record: who did what to which thing, when (pure shape, no storage).

Stored as flat string fields (a Redis stream entry holds only strings), with
``details`` as one JSON object so any shape of detail survives the round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

FIELDS = ("at", "actor", "action", "target", "details")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audited action, e.g. actor ``cli:ops``, action ``token.revoke``, target a token id.

    ``details`` must be JSON-serialisable and must not carry secrets: the log
    is read by every admin.
    """

    at: datetime
    actor: str
    action: str
    target: str
    details: Mapping[str, Any] = field(default_factory=dict)
    entry_id: str | None = None  # the log's id once stored

    def __post_init__(self) -> None:
        if not self.actor or not self.action:
            raise ValueError("an audit record needs an actor and an action")
        if self.at.tzinfo is None:
            raise ValueError("an audit record's time must be time-zone aware")

    def to_fields(self) -> dict[str, str]:
        """Flat string fields for storage."""
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "details": orjson.dumps(dict(self.details), option=orjson.OPT_SORT_KEYS).decode(),
        }

    @classmethod
    def from_fields(cls, entry_id: str, fields: Mapping[Any, bytes | str]) -> AuditRecord:
        """Rebuild a record from stored fields (bytes or str keys and values)."""
        text = {_text(k): _text(v) for k, v in fields.items()}
        return cls(
            at=datetime.fromisoformat(text["at"]),
            actor=text["actor"],
            action=text["action"],
            target=text.get("target", ""),
            details=orjson.loads(text.get("details", "{}")),
            entry_id=entry_id,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times as RFC 3339 strings), as the admin API shows it."""
        return {
            "id": self.entry_id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "details": dict(self.details),
        }


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
