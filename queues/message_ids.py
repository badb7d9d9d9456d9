"""The AMQP ``message_id`` a ticket's messages carry.

Pool consumers de-duplicate on ``message_id``, so it names the ticket; but it is an
AMQP short string, at most 255 bytes, while a ticket id of 128 characters takes up to
512 bytes in UTF-8. An id that does not fit is sent as a digest of itself.
"""

from __future__ import annotations

import hashlib

MAX_BYTES = 255
DIGEST_PREFIX = "sha256:"


def amqp_message_id(ticket_id: str) -> str:
    """``ticket_id`` itself when it fits in 255 bytes of UTF-8; otherwise ``sha256:``
    and the hex digest of its UTF-8 (71 characters, the same for every copy). An id that
    itself begins with ``sha256:`` is digested too, so a sender cannot choose an id that
    stands for another ticket's digest."""
    raw = ticket_id.encode("utf-8")
    if len(raw) <= MAX_BYTES and not ticket_id.startswith(DIGEST_PREFIX):
        return ticket_id
    return DIGEST_PREFIX + hashlib.sha256(raw).hexdigest()
