"""The classifiers' public types: what goes in, what comes out.

The service builds :class:`ClassifierInput` from a validated ticket and gets one
:class:`Prediction` back per input. Nothing here knows about the service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Protocol, runtime_checkable

Tier = Literal["tier1", "tier2"]

# Where a predicted time zone came from, strongest evidence first.
TimezoneSource = Literal["customer", "locale", "country", "phone", "language", "none"]

#: An extra head's prediction: its label and the label's confidence.
HeadLabel = tuple[str, float]
#: What a prediction without extra heads carries (shared, read-only).
NO_EXTRA: Mapping[str, HeadLabel] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ClassifierInput:
    """The parts of a ticket the classifiers look at.

    ``text`` is the whole text (subject, a newline, body); ``subject`` is the
    subject alone, when the ticket has one, for heads that weigh it apart
    (a head trained without subjects ignores it).
    """

    text: str
    locale: str | None = None
    timezone: str | None = None
    country: str | None = None
    phone: str | None = None
    subject: str | None = None


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
    #: The extra heads' predictions by head name (``queue``: ``("billing", 0.93)``).
    extra: Mapping[str, HeadLabel] = field(default_factory=lambda: NO_EXTRA, hash=False)

    def label(self, head: str) -> HeadLabel | None:
        """Any head's label and confidence (built-in or extra); ``None`` if it has none."""
        if head == "language":
            return self.language, self.language_confidence
        if head == "tier":
            return self.tier, self.tier_confidence
        if head == "category":
            return self.category, self.category_confidence
        return self.extra.get(head)

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of ``ticket-router classify`` (see the README); an extra head
        ``queue`` adds ``queue`` and ``queue_confidence`` after ``category_confidence``."""
        out: dict[str, object] = {
            "language": self.language,
            "language_confidence": round(self.language_confidence, 4),
            "tier": self.tier,
            "tier_confidence": round(self.tier_confidence, 4),
            "category": self.category,
            "category_confidence": round(self.category_confidence, 4),
        }
        for head, (label, confidence) in self.extra.items():
            out[head] = label
            out[f"{head}_confidence"] = round(confidence, 4)
        out["timezone"] = self.timezone
        out["timezone_source"] = self.timezone_source
        return out


@runtime_checkable
class DescribesHeads(Protocol):
    """A classifier that says which extra heads it predicts (a loaded model folder does);
    one that does not is taken to predict the built-in heads only."""

    @property
    def extra_heads(self) -> Mapping[str, tuple[str, ...]]:
        """Extra head name -> its labels, in the order of the model folder."""
        ...


def extra_heads_of(model: object) -> Mapping[str, tuple[str, ...]]:
    """The extra heads ``model`` predicts, with their labels (none if it does not say)."""
    return model.extra_heads if isinstance(model, DescribesHeads) else {}


class Classifier(Protocol):
    """A loaded model set: synchronous, batch-first, safe to call from one thread."""

    @property
    def version(self) -> str:
        """An identifier of the model files in use, recorded in every decision."""
        ...

    def predict(self, items: Sequence[ClassifierInput]) -> list[Prediction]:
        """Predict for a batch; returns one prediction per input, in order."""
        ...
