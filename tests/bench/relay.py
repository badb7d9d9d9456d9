"""The bare relay: the floor the router's throughput is compared with.

Consumes the inbound queue with the router's prefetch and, for every message,
publishes its body unchanged (persistent, mandatory, with publisher confirms)
to one pool queue through the assignments exchange, then acks it. Nothing is
parsed, classified or stored: what remains is the broker work every router
must do for a ticket (one delivery, one confirmed publish, one ack).

Honest and as fast as aio-pika allows: every delivery is handled in its own
task, so up to ``prefetch`` confirms are outstanding at once; a message is
acked only after its own publish was confirmed, so nothing is lost if the
relay dies.

    .venv/bin/python tests/bench/relay.py --inbound Q --exchange X --pools a,b,c

The queues and the exchange must exist (the benchmark declares them with the
service's own topology code); it prints ``ready`` once consuming and stops on
SIGTERM after the messages it holds are settled.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import sys

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage


class Relay:
    """Forwards each inbound message to the next pool in turn."""

    def __init__(self, exchange: AbstractExchange, pools: list[str]) -> None:
        self._exchange = exchange
        self._pools = itertools.cycle(pools)
        self.relayed = 0

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        """Publish the body to a pool queue, wait for the confirm, then ack."""
        out = aio_pika.Message(
            message.body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message.message_id,
            type="assignment",
        )
        await self._exchange.publish(out, routing_key=next(self._pools), mandatory=True)
        await message.ack()
        self.relayed += 1


class BatchedRelay(Relay):
    """The same, in batches: whatever arrived is published at once, and once every
    confirm of the batch is in, one ack with ``multiple`` settles the whole batch
    (batches run one after the other, so nothing unconfirmed is ever acked)."""

    def __init__(self, exchange: AbstractExchange, pools: list[str]) -> None:
        super().__init__(exchange, pools)
        self._held: list[AbstractIncomingMessage] = []
        self._flusher: asyncio.Task[None] | None = None

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        """Hold the message; start a flush unless one runs (it takes this one next)."""
        self._held.append(message)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._held:
            batch, self._held = self._held, []
            await asyncio.gather(*(self._forward(m) for m in batch))
            await batch[-1].ack(multiple=True)
            self.relayed += len(batch)

    async def _forward(self, message: AbstractIncomingMessage) -> None:
        out = aio_pika.Message(
            message.body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message.message_id,
            type="assignment",
        )
        await self._exchange.publish(out, routing_key=next(self._pools), mandatory=True)


async def run(args: argparse.Namespace) -> None:
    """Consume until SIGTERM or SIGINT."""
    connection = await aio_pika.connect_robust(args.amqp)
    publish_channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    exchange = await publish_channel.get_exchange(args.exchange, ensure=False)
    consume_channel = await connection.channel()
    await consume_channel.set_qos(prefetch_count=args.prefetch)
    queue = await consume_channel.get_queue(args.inbound, ensure=False)
    kind = BatchedRelay if args.batched else Relay
    relay = kind(exchange, args.pools.split(","))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tag = await queue.consume(relay.on_message)
    print("ready", flush=True)
    await stop.wait()
    await queue.cancel(tag, timeout=5)
    await connection.close()
    print(f"relayed {relay.relayed}", file=sys.stderr)


def main() -> None:
    """Parse the command line and relay."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672/")
    p.add_argument("--inbound", required=True, help="queue to consume")
    p.add_argument("--exchange", required=True, help="direct exchange of the pool queues")
    p.add_argument("--pools", required=True, help="comma-separated routing keys (pool ids)")
    p.add_argument("--prefetch", type=int, default=256)
    p.add_argument("--batched", action="store_true", help="publish in batches, ack multiple")
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
