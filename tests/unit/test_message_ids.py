"""The AMQP message id of a ticket: the id when it fits in a short string, else a digest."""

from __future__ import annotations

import hashlib

from hypothesis import example, given
from hypothesis import strategies as st

from queues.message_ids import amqp_message_id


@given(st.text(min_size=1, max_size=128))
@example("\U0001f600" * 128)
@example("\u4e2d" * 85)
@example("sha256:" + "0" * 64)
def test_every_id_gets_a_short_string_that_names_it_alone(ticket_id: str) -> None:
    got = amqp_message_id(ticket_id)
    raw = ticket_id.encode()
    assert len(got.encode()) <= 255
    if len(raw) <= 255 and not ticket_id.startswith("sha256:"):
        assert got == ticket_id
    else:
        assert got == "sha256:" + hashlib.sha256(ticket_id.encode()).hexdigest()


def test_an_id_posing_as_a_digest_is_digested_itself() -> None:
    real = "\U0001f600" * 100
    forged = amqp_message_id(real)
    assert amqp_message_id(forged) != forged
    assert amqp_message_id("\u4e2d" * 86) != amqp_message_id("\u4e2d" * 87)
