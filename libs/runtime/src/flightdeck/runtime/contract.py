"""What each process says it does on NATS: the subjects it publishes, the durables it reads.

Pure data, declared once. Three things derive from it, so they cannot drift apart:

- the services' durable consumers (each bootstrap turns its :class:`Durable` into a
  :class:`~flightdeck.runtime.consumers.ConsumerSpec` with a handler);
- the NATS permissions of each service user (:mod:`flightdeck.runtime.nats_permissions`:
  it may publish what it declares and pull from its own durables);
- the AsyncAPI document (:mod:`flightdeck.runtime.asyncapi`): a receive operation per
  durable, a send operation per published subject, every command with its one handler.

A new service, durable, command or event subject is added here first (ADR 0019).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flightdeck.events import commands, streams, subjects

_EVT = subjects.EVENTS


@dataclass(frozen=True)
class Durable:
    """A durable pull consumer: its name (``<service>-<what>``), stream and filters."""

    name: str
    stream: str
    subjects: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Accepts:
    """A command a service handles, on its own subject (exactly one handler)."""

    subject: str
    command: type[Any]


@dataclass(frozen=True)
class Contract:
    """One process's side of the contract.

    Args:
        service: the process (a service, or ``admin`` for the CLI's own writes).
        description: one line on what it does.
        publishes: the subject patterns it appends to (events and commands).
        durables: its durable consumers.
        accepts: the commands its commands consumer handles.
    """

    service: str
    description: str
    publishes: tuple[str, ...]
    durables: tuple[Durable, ...] = ()
    accepts: tuple[Accepts, ...] = ()

    def durable(self, what: str) -> Durable:
        """The durable ``<service>-<what>``; ``KeyError`` if it is not declared."""
        name = f"{self.service}-{what}"
        for durable in self.durables:
            if durable.name == name:
                return durable
        raise KeyError(name)

    def durable_streams(self) -> dict[str, str]:
        """Each durable's name and the stream it reads (for its pull permissions)."""
        return {d.name: d.stream for d in self.durables}


def _commands(service: str, description: str) -> Durable:
    return Durable(
        f"{service}-commands",
        streams.COMMANDS,
        (subjects.service_commands(service),),
        description,
    )


ORCHESTRATOR = Contract(
    service="orchestrator",
    description="Runs each deployment's pipeline: artifact, apply, rollout, expose, verify, switch",
    publishes=(
        subjects.ALL_DEPLOYMENTS,
        subjects.ALL_APPS,
        subjects.ALL_OPS,  # ops actions: requested, then their outcome (ADR 0022)
        subjects.service_commands("ecr-poller"),
        subjects.service_commands("prober"),
    ),
    durables=(
        # Deployments start from commands: no durable on FD_DEPLOYMENTS (ADR 0020).
        _commands(
            "orchestrator",
            "Deployment and ops commands (StartDeployment, CancelDeployment, RunOpsAction)",
        ),
        Durable(
            "orchestrator-artifacts",
            streams.ARTIFACTS,
            (subjects.ALL_IMAGES,),
            "Images found or missing: the artifact stage",
        ),
        Durable(
            "orchestrator-cluster",
            streams.CLUSTER,
            tuple(f"{_EVT}.k8s.*.{kind}.*" for kind in ("deployment", "pod", "ingress")),
            "Deployments, pods and ingresses observed: rollout and exposure",
        ),
        Durable(
            "orchestrator-probes",
            streams.PROBES,
            (subjects.ALL_PROBES,),
            "Health-check verdicts: the verify stage",
        ),
    ),
    accepts=(
        Accepts(subjects.START_DEPLOYMENT, commands.StartDeployment),
        Accepts(subjects.command("orchestrator", "cancel"), commands.CancelDeployment),
        Accepts(subjects.RUN_OPS_ACTION, commands.RunOpsAction),
    ),
)

K8S_WATCHER = Contract(
    service="k8s-watcher",
    description="Watches the cluster and records what changed",
    publishes=(subjects.ALL_CLUSTER,),
)

ECR_POLLER = Contract(
    service="ecr-poller",
    description="Watches the registry until an image appears",
    publishes=(subjects.ALL_IMAGES,),
    durables=(_commands("ecr-poller", "Image watches (WatchImage)"),),
    accepts=(Accepts(subjects.command("ecr-poller", "watch-image"), commands.WatchImage),),
)

PROBER = Contract(
    service="prober",
    description="Health-checks a new colour (and the old one) and records the verdict",
    publishes=(subjects.ALL_PROBES,),
    durables=(_commands("prober", "Verification requests (VerifyColour)"),),
    accepts=(Accepts(subjects.command("prober", "verify-colour"), commands.VerifyColour),),
)

NOTIFIER = Contract(
    service="notifier",
    description="Tells a tenant's channels (email, Slack, Discord, webhooks) about incidents",
    publishes=(subjects.ALL_CHANNELS,),
    durables=(
        Durable(
            "notifier-incidents",
            streams.MONITORS,
            (subjects.ALL_MONITORS,),
            "Incidents opened and resolved: each bound channel is told once per transition",
        ),
    ),
)

LOG_RELAY = Contract(
    service="log-relay",
    description="Follows the pods' logs and records their lines",
    publishes=(subjects.ALL_LOGS,),
    durables=(_commands("log-relay", "Log follows (FollowLogs, UnfollowLogs)"),),
    accepts=(
        Accepts(subjects.command("log-relay", "follow-logs"), commands.FollowLogs),
        Accepts(subjects.command("log-relay", "unfollow-logs"), commands.UnfollowLogs),
    ),
)

GATEWAY = Contract(
    service="gateway",
    description="The HTTP API: asks for deployments by command, records connections and claims",
    publishes=(
        subjects.ALL_CONNECTIONS,
        subjects.ALL_CLAIMS,
        subjects.service_commands("orchestrator"),
        subjects.service_commands("log-relay"),
    ),
)

ADMIN = Contract(
    service="admin",
    description="The operator's CLI: tenants, namespaces, API tokens (admin credentials)",
    publishes=(subjects.ALL_TENANTS, subjects.ALL_NAMESPACES, subjects.ALL_ACCESS),
)

SERVICES: dict[str, Contract] = {
    c.service: c
    for c in (ORCHESTRATOR, K8S_WATCHER, ECR_POLLER, PROBER, NOTIFIER, LOG_RELAY, GATEWAY)
}
"""Every service's contract, by service name."""

ALL: tuple[Contract, ...] = (*SERVICES.values(), ADMIN)
"""Every party that writes to NATS."""
