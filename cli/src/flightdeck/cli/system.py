"""Everything ``flightdeck up`` starts, in order, and stops in reverse.

NATS (embedded unless ``FLIGHTDECK_NATS__URL`` is set, and then supervised:
restarted on the same port and store if it dies), the sandbox (a Kubernetes
API and AWS, unless running against the real ones), then every service as its
own supervised process with the environment that points it at them.

The embedded NATS runs with authentication (ADR 0013): one generated NKey user
per service, ``cli`` and ``admin``, seeds in the state dir. ``flightdeck up``
itself acts as admin: it creates the streams and buckets and registers the dev
API key; each service gets only its own credentials.
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

from flightdeck.cli.provisioning import (
    embedded_credentials,
    provision,
    register_dev_token,
    service_buckets,
)
from flightdeck.cli.readiness import wait_http, wait_ready
from flightdeck.cli.services import SERVICES
from flightdeck.cli.supervisor import Supervisor
from flightdeck.cli.tenants import record_at_start
from flightdeck.events import Codec
from flightdeck.events.apikeys import new_api_key
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.eventstore.jetstream.buckets import JetStreamBuckets
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_permissions import ADMIN
from flightdeck.runtime.nats_server import NatsServer
from flightdeck.runtime.privatefiles import create_private, private_dir, tighten
from flightdeck.runtime.settings import Settings, load_section
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
    """A value made once and kept in the state dir, so restarts reuse it: owner-only
    from its creation (never written, then chmod-ed), and tightened if an older
    version left it readable by others."""
    private_dir(path.parent)
    if path.exists():
        tighten(path)
    else:
        create_private(path, make().encode())
    return path.read_text().strip()


def secrets_key(state: Path) -> str:
    """This installation's key for sealing secrets. Sealed connection secrets live in
    the streams, so it must outlive a restart; production sets
    ``FLIGHTDECK_SECRETS__KEY`` instead."""
    return _kept(state / "secrets.key", lambda: base64.b64encode(os.urandom(32)).decode())


def dev_token(state: Path) -> str:
    """The embedded default's admin API key (tenant ``dev``), the same across restarts;
    registered by ``flightdeck up`` as admin, since the gateway may not write API keys."""
    return _kept(state / "dev-token", new_api_key)


def dev_tenant(env: dict[str, str]) -> str | None:
    """The dev key's tenant when the gateway runs in dev mode: it owns ``default``."""
    from flightdeck.gateway.config import GatewayConfig

    if env.get("FLIGHTDECK_GATEWAY__DEV_MODE", "").lower() not in ("true", "1", "yes", "on"):
        return None
    return load_section(GatewayConfig).dev_tenant


def gateway_url(env: dict[str, str]) -> str:
    host = env.get("FLIGHTDECK_GATEWAY__HOST", "127.0.0.1")
    return f"http://{host}:{env.get('FLIGHTDECK_GATEWAY__PORT', '8080')}"


def nats_env(settings: Settings, url: str, service: str) -> dict[str, str]:
    """A service's own NATS settings: the server, and its credentials when there are any."""
    creds = settings.nats_for(service).creds
    return {"FLIGHTDECK_NATS__URL": url} | (
        {"FLIGHTDECK_NATS__CREDS": str(creds.resolve())} if creds else {}
    )


def service_env(base: dict[str, str], state: Path, endpoints: Endpoints) -> dict[str, str]:
    """The environment every service process gets (plus its own :func:`nats_env`)."""
    env = {
        **base,
        "FLIGHTDECK_NATS__URL": endpoints.nats_url,
        "FLIGHTDECK_STATE_DIR": str(state),
        "FLIGHTDECK_GATEWAY__DEV_MODE": base.get("FLIGHTDECK_GATEWAY__DEV_MODE", "true"),
    }
    # A key or token given as a file (*_FILE) is used as it is: setting both is an error.
    if not env.get("FLIGHTDECK_SECRETS__KEY_FILE"):
        env.setdefault("FLIGHTDECK_SECRETS__KEY", secrets_key(state))
    if endpoints.kubeconfig is not None:
        env["FLIGHTDECK_K8S__KUBECONFIG"] = str(endpoints.kubeconfig)
    node_logs = endpoints.sandbox.node_log_dir if endpoints.sandbox is not None else None
    if node_logs is not None:
        # the sandbox is a node whose runtime writes CRI log files: the relay tails them
        # (the true stdout/stderr, ADR 0025) unless told otherwise
        env.setdefault("FLIGHTDECK_LOG_RELAY__MODE", "node")
        env.setdefault("FLIGHTDECK_LOG_RELAY__NODE_LOG_DIR", str(node_logs))
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
    # Everything this process and its children create is the owner's alone: the NATS
    # store, logs, the sandbox, the read model (the modules that write secrets make
    # sure of it themselves too).
    os.umask(0o077)
    private_dir(state)
    settings = settings.model_copy(update={"state_dir": state})
    supervisor = Supervisor(console, echo=not quiet)
    async with contextlib.AsyncExitStack() as stack:
        url = settings.nats.url
        if url is None:
            if settings.nats.creds is not None:
                # the embedded server knows only the users it was generated with
                settings = settings.model_copy(
                    update={"nats": settings.nats.model_copy(update={"creds": None})}
                )
            server = NatsServer(
                state / "nats",
                port=settings.nats.port,
                log_file=state / "logs" / "nats.log",
                auth=embedded_credentials(settings),
            )
            with console.status("starting nats-server (JetStream)…"):
                await server.start()
            stack.callback(server.stop)
            # Supervised from now on; supervision ends before the server is stopped.
            stack.push_async_callback(supervisor.stop_all)
            supervisor.supervise_nats(server)
            url = server.url
            console.print(
                f"[green]✔[/] nats-server ready at [bold]{url}[/] (store {state / 'nats'}; "
                f"credentials required, per user in {settings.nats_credentials_dir})"
            )
        else:
            console.print(f"[green]✔[/] using NATS at [bold]{url}[/] (FLIGHTDECK_NATS__URL)")

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

        admin = settings.nats_for(ADMIN).model_copy(update={"url": url})
        nc = await connect(admin, "flightdeck-cli", user=ADMIN)
        stack.push_async_callback(nc.close)
        store = JetStreamEventStore(nc, Codec("/flightdeck/cli"))
        await provision(store, JetStreamBuckets(nc), settings, service_buckets())
        env = service_env(dict(os.environ), state, endpoints)
        tenant = dev_tenant(env)
        await record_at_start(store, console, dev_tenant=tenant)
        token = ""
        if tenant is not None:
            token = dev_token(state)
            await register_dev_token(store, token, tenant)
        endpoints = dataclasses.replace(endpoints, gateway_url=gateway_url(env), dev_token=token)
        stack.push_async_callback(supervisor.stop_all)  # the services stop first
        for spec in SERVICES:
            await supervisor.start(spec, {**env, **nats_env(settings, url, spec.name)})
        for spec in SERVICES:
            took = await wait_ready(nc, spec.name)
            if spec.name == "gateway":
                took += await wait_http(f"{endpoints.gateway_url}/health")
            console.print(f"[green]✔[/] {spec.name} ready ({took:.1f}s)")
        yield endpoints, supervisor
