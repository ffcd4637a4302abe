"""The event store's JetStream adapter: today's code, with ADR 0006's measured fast paths.

- :mod:`.store` — :class:`JetStreamEventStore`, the port on JetStream.
- :mod:`.wire` — nats-py's client with fast header handling (connect with it).
- :mod:`.acks` — one reply subscription for every append's acknowledgement.
- :mod:`.directget` — batched direct gets: reads without a consumer.
- :mod:`.subscription` — history then live on one ordered consumer.
- :mod:`.tail` — a stream's new events for the gateway's fan-out.
- :mod:`.buckets` — the KV buckets (leases, cursors, rules) on JetStream KV.
"""

from flightdeck.eventstore.jetstream.store import JetStreamEventStore
from flightdeck.eventstore.jetstream.wire import Client, connect

__all__ = ["Client", "JetStreamEventStore", "connect"]
