"""Every NATS subject Flightdeck uses, built in one place.

Events live under ``fd.evt.<area>.…`` with one subject per aggregate, so an
append can be checked against that subject's last sequence. Commands live under
``fd.cmd.<service>.<name>``. Values from the outside world (repository names,
pod names) become subject tokens through :func:`token`, which escapes the
characters a NATS token cannot hold and is reversible.
"""

from __future__ import annotations

EVENTS = "fd.evt"
COMMANDS = "fd.cmd"
DEAD_LETTERS = "fd.dlq"

_ESCAPED = frozenset(".*>% \t\r\n")


def token(value: str) -> str:
    """Make ``value`` safe as one subject token (``%XX`` for ``.``, ``*``, ``>``, ``%``, spaces)."""
    if not value:
        raise ValueError("a subject token cannot be empty")
    if not any(ch in _ESCAPED or ord(ch) < 32 for ch in value):
        return value
    return "".join(f"%{ord(ch):02X}" if ch in _ESCAPED or ord(ch) < 32 else ch for ch in value)


def untoken(value: str) -> str:
    """Reverse :func:`token`."""
    if "%" not in value:
        return value
    out, i = [], 0
    while i < len(value):
        if value[i] == "%":
            out.append(chr(int(value[i + 1 : i + 3], 16)))
            i += 3
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def deployment(deployment_id: str) -> str:
    return f"{EVENTS}.deploy.{token(deployment_id)}"


ALL_DEPLOYMENTS = f"{EVENTS}.deploy.>"


def app(namespace: str, app: str) -> str:
    """An app's blue/green slots (see :mod:`flightdeck.events.apps`)."""
    return f"{EVENTS}.app.{token(namespace)}.{token(app)}"


ALL_APPS = f"{EVENTS}.app.>"


def image(repository: str, tag: str) -> str:
    return f"{EVENTS}.ecr.{token(repository)}.{token(tag)}"


ALL_IMAGES = f"{EVENTS}.ecr.>"


def cluster_object(namespace: str, kind: str, name: str) -> str:
    return f"{EVENTS}.k8s.{token(namespace)}.{token(kind.lower())}.{token(name)}"


ALL_CLUSTER = f"{EVENTS}.k8s.>"


def pod_logs(namespace: str, app: str, pod: str) -> str:
    """Per-pod log subject; the app token lets one filter follow an app's pods."""
    return f"{EVENTS}.log.{token(namespace)}.{token(app)}.{token(pod)}"


def app_logs(namespace: str, app: str) -> str:
    return f"{EVENTS}.log.{token(namespace)}.{token(app)}.*"


ALL_LOGS = f"{EVENTS}.log.>"


def probe(target: str) -> str:
    return f"{EVENTS}.probe.{token(target)}"


ALL_PROBES = f"{EVENTS}.probe.>"


def monitor(monitor_id: str) -> str:
    return f"{EVENTS}.monitor.{token(monitor_id)}"


ALL_MONITORS = f"{EVENTS}.monitor.>"


def channel(channel_id: str) -> str:
    """A notification channel: its definition, bindings and every notification attempt."""
    return f"{EVENTS}.channel.{token(channel_id)}"


ALL_CHANNELS = f"{EVENTS}.channel.>"


def ops(tenant: str, app: str) -> str:
    """An app's ops actions: requested, then succeeded or failed (ADR 0022)."""
    return f"{EVENTS}.ops.{token(tenant)}.{token(app)}"


ALL_OPS = f"{EVENTS}.ops.>"


def access(tenant: str) -> str:
    """A tenant's API tokens (and, before connections had their own area, its connections)."""
    return f"{EVENTS}.access.{token(tenant)}"


ALL_ACCESS = f"{EVENTS}.access.>"


def connections(tenant: str) -> str:
    """A tenant's connections (AWS, GitHub): created, then re-sealed by key rotations."""
    return f"{EVENTS}.conn.{token(tenant)}"


ALL_CONNECTIONS = f"{EVENTS}.conn.>"


def tenant(name: str) -> str:
    """A tenant's own aggregate: created, namespaces added (ADR 0012)."""
    return f"{EVENTS}.tenant.{token(name)}"


def namespace(name: str) -> str:
    """Which tenant owns a namespace: one event, the first writer's (ADR 0012)."""
    return f"{EVENTS}.namespace.{token(name)}"


def claim(namespace: str, app: str) -> str:
    """Which tenant deployed an app first: one event (ADR 0012)."""
    return f"{EVENTS}.claim.{token(namespace)}.{token(app)}"


ALL_TENANTS = f"{EVENTS}.tenant.>"
ALL_NAMESPACES = f"{EVENTS}.namespace.>"
ALL_CLAIMS = f"{EVENTS}.claim.>"
ALL_AUDIT = (
    f"{EVENTS}.ops.>",
    ALL_ACCESS,
    ALL_CONNECTIONS,
    ALL_TENANTS,
    ALL_NAMESPACES,
    ALL_CLAIMS,
)


def command(service: str, name: str) -> str:
    return f"{COMMANDS}.{token(service)}.{token(name)}"


START_DEPLOYMENT = command("orchestrator", "start")
"""Where deployments are asked for (:class:`~flightdeck.events.commands.StartDeployment`)."""


RUN_OPS_ACTION = command("orchestrator", "ops")
"""Where ops actions are asked for (:class:`~flightdeck.events.commands.RunOpsAction`)."""


def service_commands(service: str) -> str:
    return f"{COMMANDS}.{token(service)}.>"


ALL_COMMANDS = f"{COMMANDS}.>"


def dead_letters(service: str) -> str:
    """Where ``service``'s consumers put the messages they gave up on."""
    return f"{DEAD_LETTERS}.{token(service)}"


ALL_DEAD_LETTERS = f"{DEAD_LETTERS}.>"


def tokens(subject: str) -> list[str]:
    """The subject's tokens, unescaped: ``fd.evt.ops.acme.web`` → ``[…, "acme", "web"]``."""
    return [untoken(part) for part in subject.split(".")]


def aggregate_id(subject: str) -> str:
    """The aggregate an event subject names (its last token), e.g. a deployment's id."""
    return untoken(subject.rsplit(".", 1)[-1])
