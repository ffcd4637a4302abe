import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightdeck.events import streams, subjects

pytestmark = pytest.mark.unit


@given(st.text(min_size=1))
def test_token_round_trips_and_is_one_valid_token(value: str) -> None:
    tok = subjects.token(value)
    assert subjects.untoken(tok) == value
    assert not any(ch in tok for ch in ".*> \t\r\n")


def test_plain_values_stay_readable() -> None:
    assert subjects.deployment("dep-123") == "fd.evt.deploy.dep-123"
    assert subjects.image("team/web.app", "v1.2") == "fd.evt.ecr.team/web%2Eapp.v1%2E2"


def test_empty_token_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        subjects.token("")


@pytest.mark.parametrize(
    ("subject", "stream"),
    [
        (subjects.deployment("d"), streams.DEPLOYMENTS),
        (subjects.image("r", "t"), streams.ARTIFACTS),
        (subjects.cluster_object("ns", "Pod", "p"), streams.CLUSTER),
        (subjects.pod_logs("ns", "app", "p"), streams.LOGS),
        (subjects.probe("x"), streams.PROBES),
        (subjects.monitor("m"), streams.MONITORS),
        (subjects.ops("t", "a"), streams.AUDIT),
        (subjects.access("t"), streams.AUDIT),
        (subjects.connections("t"), streams.AUDIT),
        (subjects.tenant("t"), streams.AUDIT),
        (subjects.namespace("ns"), streams.AUDIT),
        (subjects.claim("ns", "a"), streams.AUDIT),
        (subjects.command("orchestrator", "cancel"), streams.COMMANDS),
    ],
)
def test_every_subject_maps_to_its_stream(subject: str, stream: str) -> None:
    assert streams.stream_for_subject(subject) == stream


def test_foreign_subject_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no Flightdeck stream"):
        streams.stream_for_subject("orders.created")


def test_duplicate_window_never_outlives_the_age_bound() -> None:
    specs = {s.name: s for s in streams.declare(streams.StreamSettings(logs_max_age_s=30))}
    assert specs[streams.LOGS].duplicate_window_s == 30
    assert specs[streams.DEPLOYMENTS].duplicate_window_s == 120
