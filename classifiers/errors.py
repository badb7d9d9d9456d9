"""Errors raised by the classifiers package."""

from __future__ import annotations


class ClassifierError(Exception):
    """Base of every error the classifiers raise on purpose."""


class ModelError(ClassifierError):
    """A model folder is missing, corrupt or was written by an incompatible version."""


class DataError(ClassifierError):
    """Training or evaluation data cannot be read as asked (bad file, column, label)."""
