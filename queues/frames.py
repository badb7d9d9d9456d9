"""The AMQP 0-9-1 frames of one assignment publish, encoded directly.

An assignment always carries the same properties but for its ``message_id``, so the
content header is a fixed template with the id and the body size put in. Building and
marshalling pamqp's frame objects took about 14 us a message, this about 2 us; the
bytes are the same as pamqp's (a property test compares them).
"""

from __future__ import annotations

import struct

from pamqp import commands as spec

_FRAME_END = b"\xce"
_FRAME_HEAD = struct.Struct(">BHI")  # frame type, channel, payload size
_METHOD, _HEADER, _BODY = 1, 2, 3
# Basic (class 60) Publish (method 40), the deprecated ticket field 0.
_PUBLISH = struct.Struct(">HHH").pack(60, 40, 0)
_MANDATORY = b"\x01"
_CONTENT = struct.Struct(">HHQ")  # class 60, weight 0, body size

_MARK = "\x00mark\x00"


def _template() -> tuple[bytes, bytes]:
    """The marshalled properties of an assignment, cut around its message id."""
    props = spec.Basic.Properties(
        content_type="application/json",
        delivery_mode=2,  # persistent
        headers={},
        message_id=_MARK,
        message_type="assignment",
    ).marshal()
    mark = bytes([len(_MARK)]) + _MARK.encode()
    before, _, after = props.partition(mark)
    return before, after


_PROPS_BEFORE, _PROPS_AFTER = _template()


def short_string(value: str) -> bytes:
    """An AMQP short string: a length octet and at most 255 bytes of UTF-8."""
    raw = value.encode("utf-8")
    if len(raw) > 255:
        raise TypeError("string exceeds maximum length of 255 bytes")
    return bytes([len(raw)]) + raw


def assignment_frames(
    channel: int, exchange: str, key: str, message_id: str, body: bytes, max_content: int
) -> list[bytes]:
    """The method, content header and body frames (bodies of at most ``max_content``
    bytes) of a persistent, mandatory publish of ``body`` to ``exchange`` with routing
    key ``key``, properties as every assignment has them (a ``message_id``, never
    empty: a ticket id is at least one character)."""
    if not message_id:
        raise ValueError("an assignment's message id is never empty")
    method = b"".join((_PUBLISH, short_string(exchange), short_string(key), _MANDATORY))
    header = b"".join(
        (
            _CONTENT.pack(60, 0, len(body)),
            _PROPS_BEFORE,
            short_string(message_id),
            _PROPS_AFTER,
        )
    )
    out = [
        _FRAME_HEAD.pack(_METHOD, channel, len(method)),
        method,
        _FRAME_END,
        _FRAME_HEAD.pack(_HEADER, channel, len(header)),
        header,
        _FRAME_END,
    ]
    for i in range(0, len(body), max_content):
        chunk = body[i : i + max_content]
        out += (_FRAME_HEAD.pack(_BODY, channel, len(chunk)), chunk, _FRAME_END)
    return out
