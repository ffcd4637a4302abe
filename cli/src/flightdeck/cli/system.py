"""Everything ``flightdeck up`` starts, in order, and stops in reverse.

NATS (embedded unless ``FLIGHTDECK_NATS_URL`` is set), the sandbox (a
Kubernetes API and AWS, unless running against the real ones), then every
service as its own process with the environment that points it at them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from flightdeck.cli.readiness import wait_ready
from flightdeck.cli.services import SERVICES
from flightdeck.cli.supervisor import Supervisor
from flightdeck.events import Codec, EventStore, declare
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_server import NatsServer
from flightdeck.runtime.settings import Settings
from flightdeck.sandbox import Sandbox, SandboxConfig


@dataclass(frozen=True)
class Endpoints:
    """Where the running system can be reached."""

    nats_url: str
    kubeconfig: Path | None
    aws_endpoint: str | None
    ingress_url: str | None


def secrets_key(state: Path) -> str:
    """This installation's key for sealing secrets, made once and kept in the state dir.

    Sealed connection secrets live in the event streams, so the key must outlive
    a restart; production sets ``FLIGHTDECK_GATEWAY__SECRETS_KEY`` instead.
    """
    path = state / "secrets.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def service_env(base: dict[str, str], state: Path, endpoints: Endpoints) -> dict[str, str]:
    """The environment every service process gets."""
    env = {
        **base,
        "FLIGHTDECK_NATS_URL": endpoints.nats_url,
        "FLIGHTDECK_STATE_DIR": str(state),
        "FLIGHTDECK_GATEWAY__DEV_MODE": base.get("FLIGHTDECK_GATEWAY__DEV_MODE", "true"),
    }
    env.setdefault("FLIGHTDECK_GATEWAY__SECRETS_KEY", secrets_key(state))
    if endpoints.kubeconfig is not None:
        env["FLIGHTDECK_K8S__KUBECONFIG"] = str(endpoints.kubeconfig)
    if endpoints.aws_endpoint is not None:
        env.update(
            {
                "FLIGHTDECK_AWS__ENDPOINT_URL": endpoints.aws_endpoint,
                "FLIGHTDECK_GATEWAY__AWS_ENDPOINT_URL": endpoints.aws_endpoint,
                # moto accepts any credentials; real AWS uses the default chain
                "AWS_ACCESS_KEY_ID": "sandbox",
                "AWS_SECRET_ACCESS_KEY": "sandbox",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
        )
    return env


@contextlib.asynccontextmanager
async def running_system(
    settings: Settings, console: Console, *, sandbox: bool, speed: float, quiet: bool
) -> AsyncIterator[tuple[Endpoints, Supervisor]]:
    """Start everything; stop it all (services, sandbox, NATS) on the way out."""
    state = settings.state_dir.resolve()
    async with contextlib.AsyncExitStack() as stack:
        url = settings.nats_url
        if url is None:
            server = NatsServer(
                state / "nats", port=settings.nats_port, log_file=state / "logs" / "nats.log"
            )
            with console.status("starting nats-server (JetStream)…"):
                await server.start()
            stack.callback(server.stop)
            url = server.url
            console.print(
                f"[green]✔[/] nats-server ready at [bold]{url}[/] (store {state / 'nats'})"
            )
        else:
            console.print(f"[green]✔[/] using NATS at [bold]{url}[/] (FLIGHTDECK_NATS_URL)")

        endpoints = Endpoints(url, None, None, None)
        if sandbox:
            with console.status("starting the sandbox (Kubernetes API, AWS)…"):
                box = await stack.enter_async_context(
                    Sandbox(state / "sandbox", SandboxConfig(speed=speed))
                )
            endpoints = Endpoints(url, box.kubeconfig, box.aws_endpoint, box.ingress_url)
            console.print(
                f"[green]✔[/] sandbox ready: Kubernetes API {box.k8s_url}, AWS {box.aws_endpoint}"
            )

        nc = await connect(url, "flightdeck-cli")
        stack.push_async_callback(nc.close)
        await EventStore(nc, Codec("/flightdeck/cli")).ensure_streams(
            declare(settings.streams.to_stream_settings())
        )
        supervisor = Supervisor(
            console, service_env(dict(os.environ), state, endpoints), echo=not quiet
        )
        stack.push_async_callback(supervisor.stop_all)
        for spec in SERVICES:
            await supervisor.start(spec)
        for spec in SERVICES:
            took = await wait_ready(nc, spec.name)
            console.print(f"[green]✔[/] {spec.name} ready ({took:.1f}s)")
        yield endpoints, supervisor
