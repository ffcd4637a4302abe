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

ADMIN = "admin"
CLI = "cli"
PROJECTOR = "projector"
SERVICES = ("orchestrator", "k8s-watcher", "ecr-poller", "prober", "log-relay", "gateway")

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
        "orchestrator": _service(
            "orchestrator",
            [
                f"{_EVT}.deploy.>",
                f"{_EVT}.app.>",
                f"{_EVT}.ops.>",  # ops actions: requests and outcomes (ADR 0022)
                "fd.cmd.ecr-poller.>",
                "fd.cmd.prober.>",
                *gets(streams.DEPLOYMENTS),
                *gets(streams.CLUSTER),
                *gets(streams.AUDIT),  # who owns a namespace or an app (ADR 0012)
            ],
            durables={  # deployments start from commands: no durable on FD_DEPLOYMENTS (ADR 0020)
                "orchestrator-commands": streams.COMMANDS,
                "orchestrator-artifacts": streams.ARTIFACTS,
                "orchestrator-cluster": streams.CLUSTER,
                "orchestrator-probes": streams.PROBES,
            },
        ),
        "k8s-watcher": _service(
            "k8s-watcher", [f"{_EVT}.k8s.>", *gets(streams.CLUSTER), *kv("k8s-watcher")]
        ),
        "ecr-poller": _service(
            "ecr-poller",
            [f"{_EVT}.ecr.>", *gets(streams.ARTIFACTS), *gets(streams.AUDIT)],
            durables={"ecr-poller-commands": streams.COMMANDS},
        ),
        "prober": _service(
            "prober",
            [f"{_EVT}.probe.>", *gets(streams.PROBES)],
            durables={"prober-commands": streams.COMMANDS},
        ),
        "log-relay": _service(
            "log-relay",
            [f"{_EVT}.log.>", *gets(streams.LOGS), *follows(streams.CLUSTER), *kv("log-relay")],
            durables={"log-relay-commands": streams.COMMANDS},
        ),
        "gateway": _reader(  # asks for deployments by command, never writes their events
            "gateway",
            f"{_EVT}.conn.>",
            f"{_EVT}.claim.>",
            "fd.cmd.orchestrator.>",
            "fd.cmd.log-relay.>",
        ),
    }
