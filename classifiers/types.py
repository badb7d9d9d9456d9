"""The classifiers' public types: what goes in, what comes out.

The service builds :class:`ClassifierInput` from a validated ticket and gets one
:class:`Prediction` back per input. Nothing here knows about the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Tier = Literal["tier1", "tier2"]

# Where a predicted time zone came from, strongest evidence first.
TimezoneSource = Literal["customer", "locale", "country", "phone", "language", "none"]


@dataclass(frozen=True, slots=True)
class ClassifierInput:
    """The parts of a ticket the classifiers look at."""

    text: str
    locale: str | None = None
    timezone: str | None = None
    country: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Prediction:
    """Everything the classifiers say about one ticket, with confidences in [0, 1]."""

    language: str
    language_confidence: float
    tier: str
    tier_confidence: float
    category: str
    category_confidence: float
    timezone: str | None
    timezone_source: str
    model_version: str

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of ``ticket-router classify`` (see the README)."""
        return {
            "language": self.language,
            "language_confidence": round(self.language_confidence, 4),
            "tier": self.tier,
            "tier_confidence": round(self.tier_confidence, 4),
            "category": self.category,
            "category_confidence": round(self.category_confidence, 4),
            "timezone": self.timezone,
            "timezone_source": self.timezone_source,
        }


class Classifier(Protocol):
    """A loaded model set: synchronous, batch-first, safe to call from one thread."""

    @property
    def version(self) -> str:
        """An identifier of the model files in use, recorded in every decision."""
        ...

    def predict(self, items: Sequence[ClassifierInput]) -> list[Prediction]:
        """Predict for a batch; returns one prediction per input, in order."""
        ...
