"""Flightdeck's event store: a port, its JetStream adapter, and an in-memory twin.

The vocabulary (:mod:`flightdeck.events`) says what a message is; this package
says where messages are kept. Everything outside it sees only the port
(:class:`EventStore` and, for the KV buckets, :class:`Buckets`), so a unit test
can run on :class:`~flightdeck.eventstore.memory.InMemoryEventStore` and a
service never learns that NATS is underneath.

- :mod:`.port` — the :class:`EventStore` protocol and what it returns.
- :mod:`.jetstream` — the adapter on NATS JetStream (ADR 0002, fast paths ADR 0006).
- :mod:`.memory` — the same semantics in memory. One contract suite
  (``tests/support/event_store_contract.py``) runs against both adapters.
- :mod:`.buckets` — the KV-bucket port (leases, cursors, rules); its JetStream
  adapter is :mod:`.jetstream.buckets`.

Importing this package, or its in-memory adapter, loads no nats-py. Where
nats-py may be imported at all, outside tests and benchmarks:

- ``flightdeck.eventstore.jetstream`` — this adapter (the store, the buckets,
  and the fast client every process connects with);
- ``flightdeck.runtime.connection`` and ``flightdeck.runtime.nats_server`` — the
  connection every process opens (credentials, TLS, reconnects, the NATS
  micro-service readiness endpoint and its ping) and the embedded nats-server;
- ``flightdeck.runtime.consumers`` — the durable consumers (the FastStream
  wiring, issue 13 item 4), handed the process's connection.

The gateway's fan-out hub, allowed raw nats-py where ADR 0006 measured the gain,
needs none of its own: it reads through :meth:`EventStore.tail`, which on
JetStream is that one raw ordered consumer per stream.
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
