"""Flightdeck's event store: a port, its JetStream adapter, and an in-memory twin.

The vocabulary (:mod:`flightdeck.events`) says what a message is; this package
says where messages are kept. Everything outside it sees only the port
(:class:`EventStore` and, for the KV buckets, :class:`Buckets`), so a unit test
can run on :class:`~flightdeck.eventstore.memory.InMemoryEventStore` and a
service never learns that NATS is underneath.

- :mod:`.port` — the :class:`EventStore` protocol and what it returns.
- :mod:`.jetstream` — the adapter on NATS JetStream (ADR 0002, fast paths ADR 0006).
- :mod:`.memory` — the same semantics in memory; one contract suite
  (``tests/contract``) runs against both.
- :mod:`.buckets` — the KV-bucket port (leases, cursors, rules), its JetStream
  adapter in :mod:`.jetstream.buckets` and its twin in :mod:`.memory_buckets`.

Importing this package, or its in-memory adapters, loads no nats-py. Where
nats-py may be imported at all, outside tests and benchmarks:

- ``flightdeck.eventstore.jetstream`` — this adapter;
- ``flightdeck.runtime.connection`` and ``flightdeck.runtime.nats_server`` — the
  connection every process opens (credentials, TLS, reconnects) and the
  embedded nats-server; ``flightdeck.runtime.service`` registers the NATS
  micro-service readiness endpoint on that connection and ``wait_ready`` in
  ``flightdeck.runtime.readiness`` pings it;
- ``flightdeck.runtime.consumers`` — the durable consumers (the FastStream
  wiring, issue 13 item 4);
- ``flightdeck.gateway.adapters.hub`` — the gateway's fan-out, on raw nats-py
  where ADR 0006 measured the gain (today it reads through :meth:`EventStore.tail`).
"""

from flightdeck.events.errors import (
    AppendError,
    AppendUnacknowledged,
    ConcurrencyError,
    EventDecodeError,
    EventStoreError,
    StoreUnavailable,
)
from flightdeck.eventstore.buckets import (
    Bucket,
    BucketError,
    Buckets,
    BucketUnavailable,
    Entry,
    WrongRevision,
)
from flightdeck.eventstore.port import (
    MAX_BATCH,
    AppendResult,
    Chunk,
    Deliver,
    EventStore,
    StreamState,
    Subscription,
    Tail,
)

__all__ = [
    "MAX_BATCH",
    "AppendError",
    "AppendResult",
    "AppendUnacknowledged",
    "Bucket",
    "BucketError",
    "BucketUnavailable",
    "Buckets",
    "Chunk",
    "ConcurrencyError",
    "Deliver",
    "Entry",
    "EventDecodeError",
    "EventStore",
    "EventStoreError",
    "StoreUnavailable",
    "StreamState",
    "Subscription",
    "Tail",
    "WrongRevision",
]
