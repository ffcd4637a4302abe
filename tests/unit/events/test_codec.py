from typing import get_args

import msgspec
import pytest

from flightdeck.events import Cause, Codec, EventDecodeError, streams, upcasting
from flightdeck.events import envelope as ce
from flightdeck.events.deployments import ColourAssigned
from tests.support.samples import T0, one_of_each

pytestmark = pytest.mark.unit

codec = Codec("/flightdeck/tests", clock=lambda: T0)
cause = Cause(actor="user:ada", correlation_id="corr-1", causation_id="cause-1")


@pytest.mark.parametrize(("subject", "event"), one_of_each("k1"))
def test_every_stream_round_trips_with_its_envelope(subject, event) -> None:
    out = codec.encode(subject, event, cause)
    stream = streams.stream_for_subject(subject)
    got = codec.decode(stream, subject, out.payload, out.headers, position=7)
    assert got.event == event
    assert (got.id, got.position, got.time, got.stream) == (out.id, 7, T0, stream)
    assert (got.actor, got.correlation_id, got.causation_id) == ("user:ada", "corr-1", "cause-1")
    assert out.headers[ce.MSG_ID] == out.headers[ce.CE_ID] == out.id
    assert out.headers[ce.CE_TYPE] == "io.flightdeck." + event.type_name()
    assert out.headers[ce.CE_SPECVERSION] == "1.0"


def test_type_tags_are_unique_across_all_streams() -> None:
    tags = [cls.type_name() for union in streams.UNIONS.values() for cls in get_args(union)]
    assert len(tags) == len(set(tags))


def test_garbage_is_a_clear_decode_error() -> None:
    with pytest.raises(EventDecodeError, match=r"FD_DEPLOYMENTS#3 \(fd.evt.deploy.x\)"):
        codec.decode(streams.DEPLOYMENTS, "fd.evt.deploy.x", b"not json", {}, 3)


def test_event_of_another_stream_is_refused() -> None:
    subject, event = one_of_each("k2")[2]  # an ECR event
    out = codec.encode(subject, event, cause)
    with pytest.raises(EventDecodeError):
        codec.decode(streams.DEPLOYMENTS, subject, out.payload, out.headers, 1)


def test_old_schema_version_is_upcast_on_read(monkeypatch) -> None:
    # v0 of colour_assigned called the field "slot"; the upcaster renames it.
    def v0_to_v1(payload):
        return {**{k: v for k, v in payload.items() if k != "slot"}, "colour": payload["slot"]}

    monkeypatch.setitem(upcasting._UPCASTERS, ("deploy.colour_assigned", 0), v0_to_v1)
    old = {"type": "deploy.colour_assigned", "slot": "green", "previous_colour": None}
    headers = {
        ce.CE_TYPE: "io.flightdeck.deploy.colour_assigned",
        ce.CE_SCHEMAVERSION: "0",
        ce.CE_TIME: T0.isoformat(),
    }
    got = codec.decode(streams.DEPLOYMENTS, "fd.evt.deploy.x", msgspec.json.encode(old), headers, 1)
    assert got.event == ColourAssigned(colour="green", previous_colour=None)


def test_missing_upcaster_is_a_decode_error() -> None:
    headers = {ce.CE_TYPE: "io.flightdeck.deploy.colour_assigned", ce.CE_SCHEMAVERSION: "0"}
    payload = b'{"type":"deploy.colour_assigned","slot":"green"}'
    with pytest.raises(EventDecodeError, match="no upcaster"):
        codec.decode(streams.DEPLOYMENTS, "fd.evt.deploy.x", payload, headers, 1)


ASSIGNED = msgspec.json.encode(ColourAssigned(colour="green", previous_colour=None))
ASSIGNED_TYPE = "io.flightdeck.deploy.colour_assigned"


@pytest.mark.parametrize(
    ("payload", "headers"),
    [
        (b"", {}),
        (b"\x00\xff\xfe", {}),
        (b"[" * 10_000, {}),
        (b'{"type": "deploy.requested"}', {}),
        (b'{"type": "nobody.knows"}', {}),
        (b"null", {ce.CE_TYPE: ASSIGNED_TYPE, ce.CE_SCHEMAVERSION: "0"}),
        (ASSIGNED, {ce.CE_SCHEMAVERSION: "one"}),
        (ASSIGNED, {ce.CE_SCHEMAVERSION: "9" * 5000}),
        (ASSIGNED, {ce.CE_TIME: "yesterday"}),
    ],
    ids=[
        "empty",
        "binary",
        "deep",
        "missing-fields",
        "unknown-tag",
        "old-version-not-an-object",
        "version-not-a-number",
        "version-too-long",
        "time-not-a-time",
    ],
)
def test_every_kind_of_garbage_is_a_decode_error(payload: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(EventDecodeError):
        codec.decode(streams.DEPLOYMENTS, "fd.evt.deploy.x", payload, headers, 1)


def test_a_failing_upcaster_is_a_decode_error_not_a_crash(monkeypatch) -> None:
    def broken(payload):
        return payload["slot"].upper()  # AttributeError on anything but a string

    monkeypatch.setitem(upcasting._UPCASTERS, ("deploy.colour_assigned", 0), broken)
    headers = {ce.CE_TYPE: ASSIGNED_TYPE, ce.CE_SCHEMAVERSION: "0"}
    with pytest.raises(EventDecodeError):
        codec.decode(streams.DEPLOYMENTS, "fd.evt.deploy.x", b'{"slot": 3}', headers, 1)


def test_a_time_without_a_zone_is_read_as_utc() -> None:
    """A naive time would make every deadline comparison of its aggregate raise."""
    headers = {ce.CE_TIME: "2026-11-25T12:00:00"}
    got = codec.decode(streams.DEPLOYMENTS, "fd.evt.deploy.x", ASSIGNED, headers, 1)
    assert got.time == T0 and got.time.utcoffset() is not None


@pytest.mark.parametrize(
    ("written", "code", "reason"),
    [
        ("ROLLOUT_TIMEOUT", "DEPLOYMENT_TIMEOUT", "ROLLOUT_TIMEOUT"),
        ("DEPLOYMENT_TIMEOUT", "DEPLOYMENT_TIMEOUT", "OVERALL_TIMEOUT"),
        ("CRASH_LOOP", "CRASH_LOOP", None),
    ],
)
def test_a_v1_timeout_reads_as_panda_s_one_timeout_code(written, code, reason) -> None:
    # v1 wrote each timer's own code; stored history reads like v2 (ADR 0024)
    old = {
        "type": "deploy.failed",
        "stage": "rollout",
        "error_code": written,
        "message": "m",
        "rolled_back": True,
        "serving_colour": "blue",
        "total_duration_ms": 5,
    }
    headers = {
        ce.CE_TYPE: "io.flightdeck.deploy.failed",
        ce.CE_SCHEMAVERSION: "1",
        ce.CE_TIME: T0.isoformat(),
    }
    got = codec.decode(streams.DEPLOYMENTS, "fd.evt.deploy.x", msgspec.json.encode(old), headers, 1)
    assert (got.event.error_code, got.event.reason, got.event.timeout_s) == (code, reason, None)
