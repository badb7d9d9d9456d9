"""The directly encoded frames of an assignment publish are pamqp's, byte for byte."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pamqp import commands as spec
from pamqp.body import ContentBody
from pamqp.frame import marshal, unmarshal
from pamqp.header import ContentHeader

from queues.frames import assignment_frames

_NAMES = st.text(max_size=80)


def _pamqp(
    channel: int, exchange: str, key: str, message_id: str, body: bytes, max_content: int
) -> bytes:
    """The same publish as aiormq builds it from pamqp's frame objects."""
    props = spec.Basic.Properties(
        content_type="application/json",
        delivery_mode=2,
        headers={},
        message_id=message_id,
        message_type="assignment",
    )
    frames: list[spec.Basic.Publish | ContentHeader | ContentBody] = [
        spec.Basic.Publish(exchange=exchange, routing_key=key, mandatory=True),
        ContentHeader(properties=props, body_size=len(body)),
        *(ContentBody(body[i : i + max_content]) for i in range(0, len(body), max_content)),
    ]
    return b"".join(marshal(frame, channel) for frame in frames)


@given(
    channel=st.integers(1, 2047),
    # pamqp refuses exchange names outside this pattern (the service's are within it).
    exchange=st.from_regex(r"[A-Za-z0-9_\-.:]{0,127}", fullmatch=True),
    key=_NAMES,
    message_id=st.text(min_size=1, max_size=63),
    body=st.binary(max_size=3000),
    max_content=st.integers(1, 4096),
)
@example(channel=1, exchange="", key="", message_id="T", body=b"", max_content=131064)
@example(
    channel=7, exchange="a", key="p", message_id="\U0001f600" * 63, body=b"x" * 9, max_content=4
)
def test_the_frames_are_pamqps(
    channel: int, exchange: str, key: str, message_id: str, body: bytes, max_content: int
) -> None:
    ours = b"".join(assignment_frames(channel, exchange, key, message_id, body, max_content))
    assert ours == _pamqp(channel, exchange, key, message_id, body, max_content)


def test_a_frame_read_back_carries_the_fields() -> None:
    data = b"".join(assignment_frames(3, "assignments.x", "hq", "T-1", b'{"a":1}', 131064))
    _, channel, method = unmarshal(data)
    assert channel == 3 and isinstance(method, spec.Basic.Publish)
    assert (method.exchange, method.routing_key, method.mandatory) == ("assignments.x", "hq", True)


def test_an_empty_message_id_is_refused() -> None:
    with pytest.raises(ValueError):
        assignment_frames(1, "x", "k", "", b"", 100)


def test_a_name_past_255_bytes_is_refused_as_pamqp_refuses_it() -> None:
    with pytest.raises(TypeError):
        assignment_frames(1, "x", "k", "\u4e2d" * 86, b"", 100)
    with pytest.raises(TypeError):
        _pamqp(1, "x", "k", "\u4e2d" * 86, b"", 100)
