"""The pure halves of failing fast: which probe targets cannot be sent, which watches end early."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flightdeck.ecr_poller.domain.watches import Book, Watch
from flightdeck.prober.domain.checks import Target, refusal

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "target",
    [
        Target("http://10.0.0.1/healthz"),
        Target("https://web.example.com:8443/a/b?c=d"),
        Target("http://localhost:8088/health%0D%0A", host="web-green.localhost"),
        Target("http://[::1]:8080/caf\u00e9"),
    ],
)
def test_targets_the_prober_can_send(target: Target) -> None:
    assert refusal(target) is None


@pytest.mark.parametrize(
    ("target", "why"),
    [
        (Target("http://10.0.0.1/he\r\nalth"), "control character"),
        (Target("http://10.0.0.1/h\x00"), "control character"),
        (Target("http://10.0.0.1/h\x7f"), "control character"),
        (Target("http://10.0.0.1/ok", host="web\r\nX-Evil: 1"), "Host"),
        (Target("http://10.0.0.1/ok", host="web green"), "Host"),
        (Target("/healthz"), "http or https"),
        (Target("ftp://10.0.0.1/healthz"), "http or https"),
        (Target("http:///healthz"), "no host"),
        (Target("http://10.0.0.1:99999/healthz"), "port"),
    ],
)
def test_targets_the_prober_refuses_say_why(target: Target, why: str) -> None:
    reason = refusal(target)
    assert reason is not None and why in reason
    assert "\r" not in reason and "\n" not in reason and "\x00" not in reason


def watch(key: str, started_s: float = 0, deadline_s: float = 600) -> Watch:
    return Watch(
        key=key,
        repository="web",
        tag="v1",
        deadline=T0 + timedelta(seconds=deadline_s),
        started_at=T0 + timedelta(seconds=started_s),
        deployment_id=key,
    )


def test_watches_of_a_missing_repository_end_after_the_grace() -> None:
    book = Book()
    book.add(watch("early"))
    book.add(watch("late", started_s=20))
    group = (None, "web")
    assert book.given_up(group, T0 + timedelta(seconds=29), grace_s=30) == []
    assert [w.key for w in book.given_up(group, T0 + timedelta(seconds=30), grace_s=30)] == [
        "early"
    ]
    assert [w.key for w in book.group(group)] == ["late"]
    assert [w.key for w in book.given_up(group, T0 + timedelta(seconds=20), grace_s=0)] == ["late"]
