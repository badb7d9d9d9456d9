"""Batched acks: one multiple ack for the settled prefix, never over a held delivery."""

from __future__ import annotations

from typing import cast

from queues.acks import AckBatcher, Settleable


class _Channel:
    """Stands for one underlying AMQP channel (only its identity matters)."""


class _Message:
    """The two things the batcher reads, and a record of the acks it sends."""

    def __init__(self, tag: int, channel: _Channel, log: list[tuple[int, bool]]) -> None:
        self.delivery_tag = tag
        self.channel = channel
        self._log = log

    async def ack(self, multiple: bool = False) -> None:
        self._log.append((self.delivery_tag, multiple))


def _messages(n: int, log: list[tuple[int, bool]]) -> list[Settleable]:
    channel = _Channel()
    return [cast(Settleable, _Message(t, channel, log)) for t in range(1, n + 1)]


async def test_a_settled_batch_is_one_multiple_ack() -> None:
    log: list[tuple[int, bool]] = []
    acks = AckBatcher()
    batch = _messages(5, log)
    for m in batch:
        acks.delivered(m)
    for m in reversed(batch):
        acks.settle(m)
    assert await acks.flush() == 5
    assert log == [(5, True)]
    assert len(acks) == 0


async def test_a_held_delivery_is_never_covered_and_delays_no_other() -> None:
    log: list[tuple[int, bool]] = []
    acks = AckBatcher()
    batch = _messages(6, log)
    for m in batch:
        acks.delivered(m)
    for i in (0, 1, 3, 5):  # tags 1, 2, 4, 6 settled; 3 and 5 still held
        acks.settle(batch[i])
    assert await acks.flush() == 4
    assert log == [(2, True), (4, False), (6, False)]
    log.clear()
    acks.settle(batch[2])
    acks.settle(batch[4])
    assert await acks.flush() == 2
    assert log == [(5, True)]  # 3 and 5 are all that is outstanding below 5
    assert len(acks) == 0


async def test_forgotten_and_unsettled_deliveries_are_not_acked() -> None:
    log: list[tuple[int, bool]] = []
    acks = AckBatcher()
    batch = _messages(3, log)
    for m in batch:
        acks.delivered(m)
    acks.forget(batch[0])  # nacked back to the queue
    acks.settle(batch[1])
    assert await acks.flush() == 1
    assert log == [(2, True)]
    assert await acks.flush() == 0
    assert len(acks) == 1  # tag 3 still held


async def test_each_channel_is_acked_on_its_own() -> None:
    log: list[tuple[int, bool]] = []
    acks = AckBatcher()
    first, second = _messages(2, log), _messages(2, log)  # tags 1, 2 on two channels
    for m in (*first, *second):
        acks.delivered(m)
        acks.settle(m)
    assert await acks.flush() == 4
    assert sorted(log) == [(2, True), (2, True)]
