"""Who may do what on NATS (ADR 0013): one user per service, the CLI, the projector, admin.

Pure data. Everything on NATS is a subject, the JetStream API too, so each
right is a subject pattern: appending an event is publishing to its subject;
creating a stream is publishing to ``$JS.API.STREAM.CREATE.<name>``. Each
service may publish only its own events (the log relay only log lines, the
k8s-watcher only cluster observations…), read the streams it uses, and pull
from its own durable consumers. Only admin may create, change, purge or delete
streams, delete messages, or write access (API tokens), tenant and namespace
events. Every user receives replies only on its own inboxes (``_INBOX.<user>.>``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flightdeck.events import streams
from flightdeck.runtime import contract

ADMIN = "admin"
CLI = "cli"
PROJECTOR = "projector"
SERVICES = (
    "orchestrator",
    "k8s-watcher",
    "ecr-poller",
    "prober",
    "notifier",
    "log-relay",
    "gateway",
)

_API = "$JS.API"
_EVT = "fd.evt"
ALL_STREAMS = tuple(streams.UNIONS)


@dataclass(frozen=True)
class Permissions:
    """Subjects a user may publish to and subscribe on; it may also answer requests."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


@dataclass(frozen=True)
class BucketSpec:
    """A NATS KV bucket a service keeps its own state in (created by admin)."""

    name: str
    ttl_s: float | None = None


def gets(stream: str) -> tuple[str, ...]:
    """Read stored messages of ``stream`` by direct get (and its state)."""
    return (
        f"{_API}.STREAM.INFO.{stream}",
        f"{_API}.DIRECT.GET.{stream}",
        f"{_API}.DIRECT.GET.{stream}.>",
    )


def follows(stream: str) -> tuple[str, ...]:
    """Read ``stream`` history-then-live on ephemeral ordered consumers."""
    return (
        *gets(stream),
        f"{_API}.CONSUMER.CREATE.{stream}",
        f"{_API}.CONSUMER.INFO.{stream}.*",
        f"$JS.FC.{stream}.>",
    )


def pulls(stream: str, durable: str) -> tuple[str, ...]:
    """Create, bind, pull from and acknowledge one's own durable consumer ``durable``."""
    return (
        *gets(stream),
        f"{_API}.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
        f"{_API}.CONSUMER.CREATE.{stream}.{durable}",
        f"{_API}.CONSUMER.CREATE.{stream}.{durable}.>",
        f"{_API}.CONSUMER.INFO.{stream}.{durable}",
        f"{_API}.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    )


def keeps(bucket: BucketSpec) -> tuple[str, ...]:
    """Read, write and watch the keys of one KV bucket (not create or change the bucket)."""
    return (*follows(f"KV_{bucket.name}"), f"$KV.{bucket.name}.>")


def _service(
    name: str, publish: Iterable[str], *, durables: Mapping[str, str] | None = None
) -> Permissions:
    """A process's rights: ``publish`` plus its inboxes and its readiness endpoint;
    ``durables`` maps each of its durable consumers to the stream it reads (and then it
    may dead-letter what they give up on)."""
    rights = [*publish, f"fd.dlq.{name}"] if durables else list(publish)
    for durable, stream in (durables or {}).items():
        rights += pulls(stream, durable)
    micro = f"flightdeck-{name}"
    return Permissions(
        publish=_unique(rights),
        subscribe=(
            f"_INBOX.{name}.>",
            "$SRV.PING",
            "$SRV.INFO",
            "$SRV.STATS",
            f"$SRV.*.{micro}",
            f"$SRV.*.{micro}.>",
        ),
    )


def _declared(declared: contract.Contract, *reads: str) -> Permissions:
    """A service's rights from its contract: what it publishes, its durables, plus ``reads``."""
    return _service(
        declared.service,
        [*declared.publishes, *reads],
        durables=declared.durable_streams(),
    )


def _reader(name: str, *extra: str) -> Permissions:
    """Reads every stream; publishes nothing but ``extra``."""
    rights = [r for s in ALL_STREAMS for r in follows(s)]
    return _service(name, [*rights, *extra])


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def users(buckets: Mapping[str, Iterable[BucketSpec]]) -> dict[str, Permissions]:
    """Every user of the embedded server and its rights.

    Args:
        buckets: the KV buckets of each service (their names are service settings).
    """

    def kv(service: str) -> list[str]:
        return [r for b in buckets.get(service, ()) for r in keeps(b)]

    return {
        ADMIN: Permissions(publish=(">",), subscribe=(">",)),
        CLI: _reader(CLI),
        PROJECTOR: _reader(PROJECTOR),
        # What each service publishes and which durables it pulls from are its contract
        # (flightdeck.runtime.contract, the AsyncAPI document's source); reads are here.
        "orchestrator": _declared(
            contract.ORCHESTRATOR,
            *gets(streams.DEPLOYMENTS),
            *gets(streams.CLUSTER),
            *gets(streams.AUDIT),  # who owns a namespace or an app (ADR 0012)
        ),
        "k8s-watcher": _declared(contract.K8S_WATCHER, *gets(streams.CLUSTER), *kv("k8s-watcher")),
        "ecr-poller": _declared(
            contract.ECR_POLLER, *gets(streams.ARTIFACTS), *gets(streams.AUDIT)
        ),
        "prober": _declared(contract.PROBER, *gets(streams.PROBES)),
        # reads a monitor's history and scans the channels (their bindings) on FD_MONITORS
        "notifier": _declared(contract.NOTIFIER, *follows(streams.MONITORS)),
        "log-relay": _declared(
            contract.LOG_RELAY, *gets(streams.LOGS), *follows(streams.CLUSTER), *kv("log-relay")
        ),
        # asks for deployments by command, never writes their events
        "gateway": _reader("gateway", *contract.GATEWAY.publishes),
    }
