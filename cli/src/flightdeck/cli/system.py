"""Everything ``flightdeck up`` starts, in order, and stops in reverse.

NATS (embedded unless ``FLIGHTDECK_NATS_URL`` is set, and then supervised:
restarted on the same port and store if it dies), the sandbox (a Kubernetes
API and AWS, unless running against the real ones), then every service as its
own supervised process with the environment that points it at them.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from flightdeck.cli.readiness import wait_http, wait_ready
from flightdeck.cli.services import SERVICES
from flightdeck.cli.supervisor import Supervisor
from flightdeck.events import Codec, EventStore, declare
from flightdeck.events.apikeys import new_api_key
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
    gateway_url: str = ""
    dev_token: str = ""
    sandbox: Sandbox | None = None


def _kept(path: Path, make: Callable[[], str]) -> str:
    """A value made once and kept (owner-only) in the state dir, so restarts reuse it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def secrets_key(state: Path) -> str:
    """This installation's key for sealing secrets. Sealed connection secrets live in
    the streams, so it must outlive a restart; production sets
    ``FLIGHTDECK_SECRETS__KEY`` instead."""
    return _kept(state / "secrets.key", lambda: base64.b64encode(os.urandom(32)).decode())


def dev_token(state: Path) -> str:
    """The embedded default's admin API key (tenant ``dev``), the same across restarts."""
    return _kept(state / "dev-token", new_api_key)


def gateway_url(env: dict[str, str]) -> str:
    host = env.get("FLIGHTDECK_GATEWAY__HOST", "127.0.0.1")
    return f"http://{host}:{env.get('FLIGHTDECK_GATEWAY__PORT', '8080')}"


def service_env(base: dict[str, str], state: Path, endpoints: Endpoints) -> dict[str, str]:
    """The environment every service process gets."""
    env = {
        **base,
        "FLIGHTDECK_NATS_URL": endpoints.nats_url,
        "FLIGHTDECK_STATE_DIR": str(state),
        "FLIGHTDECK_GATEWAY__DEV_MODE": base.get("FLIGHTDECK_GATEWAY__DEV_MODE", "true"),
    }
    env.setdefault("FLIGHTDECK_SECRETS__KEY", secrets_key(state))
    if env["FLIGHTDECK_GATEWAY__DEV_MODE"] == "true":
        env.setdefault("FLIGHTDECK_GATEWAY__DEV_TOKEN", dev_token(state))
    if endpoints.kubeconfig is not None:
        env["FLIGHTDECK_K8S__KUBECONFIG"] = str(endpoints.kubeconfig)
    if endpoints.aws_endpoint is not None:
        env.update(
            {
                "FLIGHTDECK_AWS__ENDPOINT_URL": endpoints.aws_endpoint,
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
    supervisor = Supervisor(console, echo=not quiet)
    async with contextlib.AsyncExitStack() as stack:
        url = settings.nats_url
        if url is None:
            server = NatsServer(
                state / "nats", port=settings.nats_port, log_file=state / "logs" / "nats.log"
            )
            with console.status("starting nats-server (JetStream)…"):
                await server.start()
            stack.callback(server.stop)
            # Supervised from now on; supervision ends before the server is stopped.
            stack.push_async_callback(supervisor.stop_all)
            supervisor.supervise_nats(server)
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
            endpoints = Endpoints(
                url, box.kubeconfig, box.aws_endpoint, box.ingress_url, sandbox=box
            )
            console.print(
                f"[green]✔[/] sandbox ready: Kubernetes API {box.k8s_url}, AWS {box.aws_endpoint}"
            )

        nc = await connect(url, "flightdeck-cli")
        stack.push_async_callback(nc.close)
        await EventStore(nc, Codec("/flightdeck/cli")).ensure_streams(
            declare(settings.streams.to_stream_settings())
        )
        env = service_env(dict(os.environ), state, endpoints)
        endpoints = dataclasses.replace(
            endpoints,
            gateway_url=gateway_url(env),
            dev_token=env.get("FLIGHTDECK_GATEWAY__DEV_TOKEN", ""),
        )
        stack.push_async_callback(supervisor.stop_all)  # the services stop first
        for spec in SERVICES:
            await supervisor.start(spec, env)
        for spec in SERVICES:
            took = await wait_ready(nc, spec.name)
            if spec.name == "gateway":
                took += await wait_http(f"{endpoints.gateway_url}/health")
            console.print(f"[green]✔[/] {spec.name} ready ({took:.1f}s)")
        yield endpoints, supervisor
