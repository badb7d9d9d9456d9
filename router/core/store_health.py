"""What a check of the store's health found: reachable, persistent, data lost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Persistence = Literal["aof", "rdb", "none", "unknown"]


@dataclass(frozen=True, slots=True)
class RedisHealth:
    """What the last check found."""

    reachable: bool
    persistence: Persistence
    # Times (epoch seconds) this replica found Redis' data gone; 0 when never.
    data_loss_count: int
    last_data_loss_at: float | None

    @property
    def persistent(self) -> bool:
        """True when writes survive a restart (append-only file on)."""
        return self.persistence == "aof"

    def problems(self) -> list[str]:
        """One line per problem an operator must see, empty when all is well."""
        out: list[str] = []
        if not self.reachable:
            out.append("redis unreachable")
        elif self.persistence == "none":
            out.append(
                "redis does not persist (appendonly no, no snapshots): a restart loses "
                "every claim, token and config version"
            )
        elif self.persistence == "rdb":
            out.append(
                "redis persists by snapshots only (appendonly no): a restart loses the "
                "writes since the last snapshot"
            )
        elif self.persistence == "unknown":
            out.append("redis persistence unknown (INFO persistence not readable)")
        if self.data_loss_count:
            out.append(
                f"redis data vanished {self.data_loss_count} time(s) since start (epoch key "
                "missing): records written before are lost; re-sent tickets may route again"
            )
        return out
