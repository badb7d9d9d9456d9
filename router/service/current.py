"""A holder for a value that can be replaced while the service runs (model, config)."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class Current(Generic[T]):
    """The value in force. Reads are a plain attribute access: a batch takes the value
    once at its start, so every ticket of the batch uses one consistent version."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def swap(self, value: T) -> T:
        """Put ``value`` in force; return the previous one."""
        old, self.value = self.value, value
        return old
