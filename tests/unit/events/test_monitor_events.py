"""Monitor events v2 (issue 15, ADR 0027): stored v1 events still read, as v2."""

from __future__ import annotations

import msgspec
import pytest

from flightdeck.events import Cause, Codec, streams
from flightdeck.events import envelope as ce
from flightdeck.events.audit import SealedSecret
from flightdeck.events.monitors import MonitorCreated, MonitorUpdated
from tests.support.samples import T0

pytestmark = pytest.mark.unit

codec = Codec("/flightdeck/tests", clock=lambda: T0)


def _decode_v1(payload: dict[str, object], type_name: str) -> object:
    headers = {
        ce.CE_TYPE: f"io.flightdeck.{type_name}",
        ce.CE_SCHEMAVERSION: "1",
        ce.CE_TIME: T0.isoformat(),
    }
    raw = msgspec.json.encode({"type": type_name, **payload})
    return codec.decode(streams.MONITORS, "fd.evt.monitor.m1", raw, headers, 1).event


def test_a_stored_v1_created_event_reads_as_v2_conditions() -> None:
    v1 = {
        "monitor_id": "m1",
        "tenant": "acme",
        "name": "home",
        "url": "https://example.com/",
        "interval_s": 120.0,
        "timeout_s": 5.0,
        "expected_status": 204,
        "body_contains": 'say "ok"',
        "failure_threshold": 4,
        "recovery_threshold": 3,
    }
    got = _decode_v1(v1, "monitor.created")
    assert got == MonitorCreated(
        monitor_id="m1",
        tenant="acme",
        name="home",
        url="https://example.com/",
        interval_s=120.0,
        timeout_s=5.0,
        conditions=["[STATUS] == 204", '[BODY] contains "say \\"ok\\""'],
        failure_threshold=4,
        success_threshold=3,
    )


def test_a_stored_v1_update_keeps_paused_and_gets_a_status_condition() -> None:
    v1 = {
        "monitor_id": "m1",
        "name": "home",
        "url": "http://x/",
        "interval_s": 60.0,
        "timeout_s": 10.0,
        "expected_status": 200,
        "body_contains": None,
        "failure_threshold": 3,
        "recovery_threshold": 2,
        "paused": True,
    }
    got = _decode_v1(v1, "monitor.updated")
    assert isinstance(got, MonitorUpdated)
    assert (got.conditions, got.success_threshold, got.paused) == (["[STATUS] == 200"], 2, True)


def test_v2_round_trips_with_sealed_headers_and_an_app_instead_of_a_url() -> None:
    event = MonitorCreated(
        monitor_id="m2",
        tenant="acme",
        name="api",
        app_name="hello",
        method="POST",
        headers={"Accept": "application/json"},
        secret_headers={"Authorization": SealedSecret(key_id="k-1", ciphertext="c2VhbGVk")},
        body='{"ping": 1}',
        conditions=["[STATUS] in 200..299", '$.status == "ok"'],
    )
    out = codec.encode(
        "fd.evt.monitor.m2", event, Cause(actor="user:ada", correlation_id="c1", causation_id="c1")
    )
    assert out.headers[ce.CE_SCHEMAVERSION] == "2"
    assert b"Bearer" not in out.payload
    got = codec.decode(streams.MONITORS, "fd.evt.monitor.m2", out.payload, out.headers, 2)
    assert got.event == event
