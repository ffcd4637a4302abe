"""The app view's read-model queries and seeds on each back end (SQLite, and PostgreSQL
when ``FLIGHTDECK_TEST_POSTGRES_URL`` is set): rows projected from real JetStream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from flightdeck.events import Cause, new_id, subjects
from flightdeck.events.apps import AppReleased, AppSlotClaimed
from flightdeck.events.cluster import ResourceDeleted
from flightdeck.events.deployments import (
    Colour,
    ColourAssigned,
    DeploymentCompleted,
    DeploymentStatus,
)
from flightdeck.events.streams import CLUSTER, DEPLOYMENTS
from flightdeck.eventstore import EventStore
from flightdeck.gateway.adapters.approws import AppRows
from flightdeck.gateway.domain.appview import RenderCache, render_cluster, render_feed_deployment
from flightdeck.gateway.service_layer import apps
from flightdeck.readmodel.database import Database
from flightdeck.readmodel.projector import Projector
from flightdeck.runtime.ownership import Ownership
from tests.integration.readmodel.support import caught_up
from tests.support.appview import NS, observe, pod, replicas, sample
from tests.support.samples import progressed, requested
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
CAUSE = Cause.root("user:tests")


@pytest.fixture
async def projected(store: EventStore, database: Database) -> AsyncIterator[Projector]:
    projector = Projector(store, database)
    task = asyncio.create_task(projector.run())
    yield projector
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_the_app_document_and_the_seeds_from_the_read_model(
    store: EventStore, database: Database, projected: Projector
) -> None:
    # arrange: an app deployed to blue, two pods (one gone), a running deployment
    app = f"rows-{new_id()[:10]}"
    done, running = new_id(), new_id()
    await store.append(
        subjects.deployment(done),
        [
            requested(done, app, namespace=NS),
            ColourAssigned(colour=Colour.BLUE, previous_colour=None),
            DeploymentCompleted(
                colour=Colour.BLUE, url="http://x", stage_durations_ms={}, total_duration_ms=1
            ),
        ],
        cause=CAUSE,
        expected=0,
    )
    slot = subjects.app(NS, app)
    await store.append(
        slot,
        [
            AppSlotClaimed(
                namespace=NS, app=app, deployment_id=done, colour=Colour.BLUE, previous_colour=None
            ),
            AppReleased(
                namespace=NS,
                app=app,
                deployment_id=done,
                outcome=DeploymentStatus.SUCCEEDED,
                serving_colour=Colour.BLUE,
            ),
            AppSlotClaimed(
                namespace=NS,
                app=app,
                deployment_id=running,
                colour=Colour.GREEN,
                previous_colour=Colour.BLUE,
            ),
        ],
        cause=CAUSE,
    )
    await store.append(
        subjects.deployment(running),
        [requested(running, app, namespace=NS), progressed(0)],
        cause=CAUSE,
        expected=0,
    )
    a, b = f"{app}-blue-x-1", f"{app}-blue-x-2"
    await observe(store, replicas(app, 2, 2))
    await observe(store, pod(app, a))
    await observe(store, pod(app, b))
    await observe(store, sample(a, 7.0))
    await observe(store, ResourceDeleted(kind="Pod", namespace=NS, name=b, uid="u"))
    await eventually(lambda: caught_up(projected, store), what="the projector")
    rows = AppRows(database)
    viewing = apps.AppViewing(
        rows=rows,
        store=store,
        owners=Ownership(store),
        interval_s=30.0,
        cluster_render=RenderCache(render_cluster),
        feed_render=RenderCache(render_feed_deployment),
    )
    # act
    view = await apps.app_view(viewing, "acme", NS, app)
    pods = await apps.known_pods(viewing, NS, app, await store.stream_last_position(CLUSTER))
    after = await store.stream_last_position(DEPLOYMENTS)
    known = await apps.known_deployments(viewing, "acme", after)
    # assert
    assert (view.live_colour, view.url, view.replicas.desired, view.replicas.ready) == (
        "blue",
        "http://x",
        2,
        2,
    )
    assert view.active_deployment is not None and view.active_deployment.id == running
    assert view.last_deployment is not None and view.last_deployment.id == running
    assert [p.name for p in view.pods] == [a]
    assert view.pods[0].cpu_millicores == 7.0
    assert pods == {a, b}, "deleted pods still belong to the app (their last events may follow)"
    assert running in known and done not in known
    assert await apps.known_deployments(viewing, "globex", after) & {running, done} == set()
    assert await rows.app_deployment("globex", NS, app) is None, "deployments are per tenant"
    await Ownership(store).claim_app("acme", NS, app, done, CAUSE)
    await eventually(lambda: caught_up(projected, store), what="the claim")
    listed, total = await rows.apps_of("acme", NS, 1000, 0)
    (row,) = [r for r in listed if r["app"] == app]
    assert (row["serving_colour"], row["active_deployment_id"]) == ("blue", running)
    assert total >= 1
    assert all(r["app"] != app for r in (await rows.apps_of("globex", None, 1000, 0))[0])


async def test_reading_your_writes_is_bounded(store: EventStore, database: Database) -> None:
    """With no projector running the read model never catches up: the app view waits
    ``read_wait_s`` and then answers anyway, never for ever."""
    await observe(store, sample("nobody-blue-x-1", 1.0))
    viewing = apps.AppViewing(
        rows=AppRows(database),
        store=store,
        owners=Ownership(store),
        interval_s=30.0,
        cluster_render=RenderCache(render_cluster),
        feed_render=RenderCache(render_feed_deployment),
        read_wait_s=0.2,
    )
    assert await apps.caught_up(viewing) is False
