"""Ticket classifiers: language, tier, category and time zone (no asyncio here)."""

from classifiers.types import Classifier, ClassifierInput, Prediction

__all__ = ["Classifier", "ClassifierInput", "Prediction"]
