"""Connecting to NATS the way every Flightdeck process should: patiently, as itself.

The first connection may take up to ``timeout`` (NATS may still be starting);
after that nats-py reconnects forever, because a service must outlive a NATS
restart. The process proves who it is with the credentials in its settings (a
``.creds`` file or an NKey seed) and, where configured, TLS (ADR 0013). Its
reply inboxes are ``_INBOX.<user>.…``, so a server can let each user read its
own replies and nobody else's.

The connection also carries the readiness check: each service registers a NATS
micro-service (:func:`announce`), answering ``$SRV.PING.<name>``, which
supervisors ping (:func:`wait_ready`); :func:`close` ends it all without ever
hanging. This module and the event store's JetStream adapter are where a
connection is handled; everything else gets a port.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nats.errors
import nats.micro
import structlog
from nats.micro.service import Service

from flightdeck.eventstore.jetstream import wire
from flightdeck.eventstore.jetstream.wire import Client as NATS
from flightdeck.runtime.settings import NatsConfig

log = structlog.get_logger(__name__)

_JWT_MARK = b"BEGIN NATS USER JWT"


def micro_name(service: str) -> str:
    """The NATS micro-service name a service registers, e.g. ``flightdeck-orchestrator``."""
    return f"flightdeck-{service}"


def inbox_prefix(user: str) -> str:
    """The reply subjects of a process acting as ``user`` start with this."""
    return f"_INBOX.{user}"


def credential_options(path: Path) -> dict[str, str]:
    """nats-py's option for ``path``: a ``.creds`` file (JWT and seed) or a bare NKey seed."""
    if _JWT_MARK in path.read_bytes():
        return {"user_credentials": str(path)}
    return {"nkeys_seed": str(path)}


def tls_context(config: NatsConfig) -> ssl.SSLContext | None:
    """A client TLS context from the CA and client certificate settings, if any are set."""
    if config.tls_ca is None and config.tls_cert is None:
        return None
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(config.tls_ca) if config.tls_ca else None
    )
    if config.tls_cert is not None and config.tls_key is not None:
        context.load_cert_chain(str(config.tls_cert), str(config.tls_key))
    return context


def connect_options(config: NatsConfig) -> dict[str, Any]:
    """Credentials and TLS for nats-py's ``connect``, from ``config``."""
    options: dict[str, Any] = {}
    if config.creds is not None:
        options.update(credential_options(config.creds))
    context = tls_context(config)
    if context is not None:
        options["tls"] = context
    return options


async def connect(
    config: NatsConfig | str,
    name: str,
    *,
    user: str | None = None,
    timeout: float = 30.0,
    on_refused: Callable[[str], None] | None = None,
) -> NATS:
    """A connected client named ``name``; raises ``ConnectionError`` after ``timeout`` seconds.

    Args:
        config: the NATS settings (a bare URL means no credentials and no TLS).
        name: the connection's name, as the server's monitoring shows it.
        user: whom the credentials belong to; its replies come to ``_INBOX.<user>.…``.
        timeout: how long the first connection may take.
        on_refused: told each refusal (bad credentials, a permissions violation), which
            the client otherwise sees only as a time-out.
    """
    if isinstance(config, str):
        config = NatsConfig(url=config)
    url = config.client_url
    refused: list[Exception] = []
    turned_away = asyncio.Event()  # bad credentials: waiting longer will not help

    async def disconnected() -> None:
        if not (client.is_closed or client.is_draining):
            log.warning("nats disconnected", url=url)

    async def reconnected() -> None:
        log.info("nats reconnected", url=url)

    async def error(exc: Exception) -> None:
        if "authorization" in str(exc).lower() or "permissions" in str(exc).lower():
            refused[:] = [exc]
            if "authorization" in str(exc).lower():
                turned_away.set()
            if on_refused is not None:
                on_refused(str(exc))  # the caller reports it
            else:
                log.error("nats refused", error=str(exc))
        else:
            log.debug("nats error", error=repr(exc))

    # nats-py retries a failed first connection forever when reconnecting is allowed,
    # so the time limit is enforced around it; a refusal of the credentials ends it early.
    client = wire.Client()
    connecting = asyncio.ensure_future(
        client.connect(
            url,
            name=name,
            connect_timeout=2,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.25,  # type: ignore[arg-type]  # seconds; nats-py's hint says int
            disconnected_cb=disconnected,
            reconnected_cb=reconnected,
            error_cb=error,
            inbox_prefix=inbox_prefix(user) if user else "_INBOX",
            **connect_options(config),
        )
    )
    refusal = asyncio.ensure_future(turned_away.wait())
    try:
        await asyncio.wait({connecting, refusal}, timeout=timeout, return_when="FIRST_COMPLETED")
        if not connecting.done():
            raise TimeoutError(f"no connection within {timeout:.0f}s")
        connecting.result()
    except (TimeoutError, OSError, nats.errors.Error) as exc:
        connecting.cancel()
        await asyncio.gather(connecting, return_exceptions=True)
        await client.close()
        if refused:
            raise ConnectionError(
                f"NATS at {url} refused {name}: {refused[0]} "
                "(check FLIGHTDECK_NATS__CREDS and the TLS settings)"
            ) from exc
        raise ConnectionError(f"cannot reach NATS at {url}: {exc!r}") from exc
    finally:
        refusal.cancel()
    return client


async def announce(nc: NATS, service: str, version: str) -> Service:
    """Register ``service``'s readiness endpoint (``$SRV.PING.<micro name>`` and friends)."""
    return await nats.micro.add_service(
        nc, name=micro_name(service), version=version, description=f"Flightdeck {service}"
    )


async def close(nc: NATS, endpoint: Service | None = None) -> None:
    """Stop the endpoint, drain and close: within seconds, even with NATS gone."""
    try:
        async with asyncio.timeout(5):
            if endpoint is not None:
                await endpoint.stop()
            if nc.is_connected:
                await nc.drain()
    except (TimeoutError, nats.errors.Error) as exc:
        log.warning("nats did not drain; closing", error=repr(exc))
    finally:
        if not nc.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.close(), 2)


async def wait_ready(nc: NATS, service: str, timeout: float = 60.0) -> float:
    """Seconds until ``service`` answered its ping; ``TimeoutError`` after ``timeout``."""
    started = time.monotonic()
    subject = f"$SRV.PING.{micro_name(service)}"
    while True:
        try:
            await nc.request(subject, b"", timeout=0.5)
            return time.monotonic() - started
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{service} did not become ready in {timeout:.0f}s") from None
            await asyncio.sleep(0.1)
