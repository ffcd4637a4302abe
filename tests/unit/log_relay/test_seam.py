"""The relay's pod feed: a snapshot, then a subscription, joined without a gap or a repeat."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flightdeck.events import Recorded
from flightdeck.log_relay.domain.seam import Seam

pytestmark = pytest.mark.unit


def test_the_seam_between_snapshot_and_subscription_applies_each_event_once() -> None:
    def rec(subject: str, position: int) -> Recorded[object]:
        return Recorded(
            event=object(),
            id=str(position),
            type="k8s.pod_observed",
            source="/flightdeck/k8s-watcher",
            subject=subject,
            time=datetime(2026, 11, 25, tzinfo=UTC),
            stream="FD_CLUSTER",
            position=position,
            correlation_id=None,
            causation_id=None,
            actor=None,
            schema_version=1,
        )

    seam = Seam([rec("a", 12), rec("b", 15)])
    live = [rec("a", 11), rec("b", 13), rec("a", 12), rec("c", 14), rec("b", 15), rec("a", 16)]

    assert [r.position for r in live if seam.new(r)] == [14, 16]
    assert seam.new(rec("b", 17))
