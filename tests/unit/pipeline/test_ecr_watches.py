"""The ecr-poller's pure half: watches grouped per repository, deadlines, backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flightdeck.ecr_poller.domain.watches import Book, Watch, sleep_for

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 25, 12, tzinfo=UTC)


def watch(tag: str, deployment: str, deadline_s: float = 60, repo: str = "web") -> Watch:
    return Watch(
        key=f"{repo}:{tag}:{deployment}",
        repository=repo,
        tag=tag,
        deadline=T0 + timedelta(seconds=deadline_s),
        started_at=T0,
        deployment_id=deployment,
    )


def test_watches_of_one_repository_form_one_group_polled_for_all_tags() -> None:
    book = Book()
    assert (
        book.add(watch("v1", "d1")) and book.add(watch("v2", "d2")) and book.add(watch("v1", "d3"))
    )
    assert book.add(watch("v1", "d4", repo="api"))
    assert not book.add(watch("v1", "d1"))  # the same request again joins the first
    assert book.tags((None, "web")) == {"v1", "v2"}
    assert {w.deployment_id for w in book.found((None, "web"), "v1")} == {"d1", "d3"}
    assert book.tags((None, "web")) == {"v2"}


def test_expired_watches_leave_the_book() -> None:
    book = Book()
    book.add(watch("v1", "d1", deadline_s=10))
    book.add(watch("v2", "d2", deadline_s=30))
    assert book.next_deadline((None, "web")) == T0 + timedelta(seconds=10)
    assert [w.deployment_id for w in book.expired((None, "web"), T0 + timedelta(seconds=10))] == [
        "d1"
    ]
    assert book.next_deadline((None, "web")) == T0 + timedelta(seconds=30)


def test_a_near_deadline_shortens_the_sleep() -> None:
    assert sleep_for(5, T0, T0 + timedelta(seconds=2)) == 2.0
    assert sleep_for(5, T0, T0 - timedelta(seconds=2)) == 0.0
    assert sleep_for(5, T0, None) == 5.0
