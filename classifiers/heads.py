"""Head names: the built-in heads and the rules a named extra head's name follows.

A model folder holds the built-in heads (``language``, ``tier``, ``category``) and
any number of extra heads (``priority``, ``queue``, ``sentiment``, ...), all
predicted in one batch pass. An extra head's name is a key of the assignment's
``predictions`` and of a rule's ``match.predicted`` (beside
``<name>_confidence_above`` and ``<name>_confidence_below``), so it is a lowercase
identifier that cannot be read as one of those suffixed keys or as a field the
prediction already has.

Pure: no numpy, so the routing config's schema can use it.
"""

from __future__ import annotations

import re

__all__ = [
    "BUILTIN_HEADS",
    "CONFIDENCE_SUFFIXES",
    "HEAD_NAME_PATTERN",
    "RESERVED_NAMES",
    "head_name_problem",
    "is_extra_head_name",
]

#: The heads the router itself reads (language, the tier and category rules and pools).
BUILTIN_HEADS: tuple[str, ...] = ("language", "tier", "category")
#: A lowercase identifier of at most 32 characters.
HEAD_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
#: Keys ``<head><suffix>`` of a rule's ``predicted`` hold confidence thresholds.
CONFIDENCE_SUFFIXES: tuple[str, ...] = ("_confidence_above", "_confidence_below")
# A name ending like this would be read as a threshold key, or look like the
# classify output's "<head>_confidence" field.
_RESERVED_SUFFIXES = ("_confidence", *CONFIDENCE_SUFFIXES)
#: Names a prediction already uses for something else.
RESERVED_NAMES: frozenset[str] = frozenset({"timezone", "timezone_source", "model_version"})
_NAME = re.compile(HEAD_NAME_PATTERN)


def head_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a head, or ``None`` if it can (built-in names can)."""
    if not _NAME.fullmatch(name):
        return (
            f"head name {name!r} must be a lowercase identifier: a letter, then letters, "
            "digits or '_', at most 32 characters"
        )
    if name in RESERVED_NAMES:
        return f"head name {name!r} is reserved (the prediction's own {name!r} field)"
    for suffix in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"head name {name!r} may not end in {suffix!r} (reserved for confidences)"
    return None


def is_extra_head_name(name: str) -> bool:
    """Whether ``name`` is a valid name for an extra (not built-in) head."""
    return name not in BUILTIN_HEADS and head_name_problem(name) is None
