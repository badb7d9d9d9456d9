"""One stored version of the routing config, as the config store returns it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from router.core.errors import RouterError


@dataclass(frozen=True, slots=True)
class ConfigVersion:
    """One stored version of the routing config."""

    number: int
    version: str
    author: str
    at: datetime
    source: str
    comment: str
    diff: tuple[str, ...]
    document: Mapping[str, Any]

    def summary(self) -> dict[str, Any]:
        """JSON shape without the document."""
        return {
            "number": self.number,
            "version": self.version,
            "author": self.author,
            "at": self.at.isoformat(),
            "source": self.source,
            "comment": self.comment,
            "diff": list(self.diff),
        }


class ConfigConflict(RouterError):
    """The version in force changed since the caller read it."""

    def __init__(self, current: int) -> None:
        self.current = current
        super().__init__(f"the config in force is now version {current}")
