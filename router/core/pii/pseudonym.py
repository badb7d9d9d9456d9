"""Keyed pseudonyms: a stable stand-in for an identifier a masked pool must correlate on.

A vendor's agent needs to see that two tickets come from the same customer, not
who the customer is. ``pseudonym(value, key)`` is ``cus_`` and 16 base32
characters (80 bits) of HMAC-SHA256 over the value: the same value and key give
the same pseudonym on every replica and every day; without the key it cannot be
reversed, not even by trying every plausible customer id.

The key comes from ``ROUTER_PSEUDONYM_KEY`` (see ``router.service.settings``), the same on
every replica. Without one there is no safe stand-in (a built-in key would be
public), so the identifier is replaced by :data:`NO_KEY_TOKEN` everywhere: safe,
the same on every replica, but nothing to correlate on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

__all__ = ["MIN_KEY_BYTES", "NO_KEY_TOKEN", "PREFIX", "is_pseudonym", "pseudonym"]

PREFIX = "cus_"
NO_KEY_TOKEN = "[customer-id]"
MIN_KEY_BYTES = 16
_LENGTH = 16
# Lower-case base32 has no 0, 1, 8 or 9 and never forms a long digit run, so the
# detector never mistakes a pseudonym for personal data.
_SHAPE = re.compile(rf"{PREFIX}[a-z2-7]{{{_LENGTH}}}")


def pseudonym(value: str, key: bytes | None) -> str:
    """The keyed pseudonym of ``value`` (``NO_KEY_TOKEN`` without a key)."""
    if not key:
        return NO_KEY_TOKEN
    digest = hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    return PREFIX + base64.b32encode(digest).decode("ascii")[:_LENGTH].lower()


def is_pseudonym(value: str) -> bool:
    """True for a value already in pseudonym form (masking a masked copy keeps it)."""
    return value == NO_KEY_TOKEN or _SHAPE.fullmatch(value) is not None
