"""The TLS settings (ADR 0013): a client reaches a nats-server that requires TLS and a
client certificate with ``FLIGHTDECK_NATS__TLS_*``, and without them it is refused."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from flightdeck.runtime import processes
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_server import binary
from flightdeck.runtime.settings import NatsConfig
from tests.support.certs import Certificates, make_certificates
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture(scope="module")
def tls_server(
    certificates: Certificates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A nats-server that speaks only TLS and verifies client certificates."""
    port = processes.free_port()
    config = Path(tmp_path_factory.mktemp("tls-server")) / "tls.conf"
    config.write_text(
        "tls {\n"
        f"  cert_file: {json.dumps(str(certificates.server_cert))}\n"
        f"  key_file: {json.dumps(str(certificates.server_key))}\n"
        f"  ca_file: {json.dumps(str(certificates.ca))}\n"
        "  verify: true\n"
        "}\n"
    )
    proc = processes.spawn(
        [binary(), "-c", config, "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"tls://127.0.0.1:{port}"
    finally:
        processes.stop(proc)


async def test_the_tls_settings_reach_a_server_that_requires_a_client_certificate(
    tls_server: str, certificates: Certificates
) -> None:
    config = NatsConfig(
        url=tls_server,
        tls_ca=certificates.ca,
        tls_cert=certificates.client_cert,
        tls_key=certificates.client_key,
    )

    async def connected() -> object:
        try:
            return await connect(config, "tls-test", timeout=2)
        except ConnectionError:
            return None

    nc = await eventually(connected, within=20, what="a TLS connection")
    try:
        reply_inbox = nc.new_inbox()
        sub = await nc.subscribe(reply_inbox)
        await nc.publish(reply_inbox, b"over TLS")
        assert (await sub.next_msg(timeout=5)).data == b"over TLS"
    finally:
        await nc.close()


async def test_without_a_client_certificate_the_server_refuses(
    tls_server: str, certificates: Certificates
) -> None:
    await eventually(lambda: processes.port_open("127.0.0.1", int(tls_server.rsplit(":", 1)[1])))
    with pytest.raises(ConnectionError):
        await connect(NatsConfig(url=tls_server, tls_ca=certificates.ca), "no-cert", timeout=2)
