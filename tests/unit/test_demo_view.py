"""The demo's live table: what each stage shows as its SSE events arrive."""

import pytest

from flightdeck.cli.demo import _result_panel, colour_stats
from flightdeck.cli.demo_view import DemoView

pytestmark = pytest.mark.unit


def stage(name: str, status: str, message: str, **detail: object) -> dict[str, object]:
    return {"stage": name, "status": status, "message": message, "detail": detail}


def test_a_stage_shows_what_happened_and_what_it_found_not_the_bookkeeping() -> None:
    view = DemoView(deployment_id="d1", app="hello", image="hello:v1")
    view.on_event("stage", stage("artifact", "RUNNING", "artifact started"))
    assert view.stages["artifact"] == {"status": "RUNNING", "message": ""}
    view.on_event(
        "stage", stage("artifact", "SUCCEEDED", "artifact succeeded", digest="sha256:" + "ab" * 32)
    )
    view.on_event("stage", stage("rollout", "RUNNING", "pod hello-blue-1 Ready"))
    view.on_event(
        "stage", stage("rollout", "SUCCEEDED", "rollout succeeded", replicas=2, available=2)
    )
    view.on_event(
        "stage", stage("expose", "SUCCEEDED", "expose succeeded", url="http://hello.localhost/")
    )
    view.on_event("stage", stage("switch", "RUNNING", "traffic switched to blue"))
    view.on_event("stage", stage("switch", "SUCCEEDED", "switch succeeded"))
    shown = {name: s["message"] for name, s in view.stages.items()}
    assert shown["artifact"] == "image found (sha256:abababababab…)"
    assert shown["rollout"] == "2/2 replicas available"
    assert shown["expose"] == "reachable at http://hello.localhost/"
    assert shown["switch"] == "traffic switched to blue"
    assert view.stages["switch"]["status"] == "SUCCEEDED"
    view.on_event("done", {"status": "SUCCEEDED", "totalDurationMs": 16_700})
    assert view.stages["complete"] == {"status": "SUCCEEDED", "message": "done in 16.7 s"}
    assert view.finished


def test_a_failed_stage_keeps_its_reason() -> None:
    view = DemoView(deployment_id="d1", app="hello", image="hello:v1")
    view.on_event("stage", stage("verify", "FAILED", "3 of 5 health checks failed"))
    view.on_event("error", {"errorCode": "HEALTH_CHECK_FAILED"})
    assert view.stages["verify"] == {"status": "FAILED", "message": "3 of 5 health checks failed"}
    assert view.finished


def test_colour_stats_read_as_a_line_even_when_nothing_answered() -> None:
    stats = {"latencyP50Ms": 5.169, "latencyP99Ms": 96.83, "errorRate": 0.0}
    assert colour_stats(stats) == "p50 5.2 ms, p99 96.8 ms, error rate 0%"
    silent = {"latencyP50Ms": None, "latencyP99Ms": None, "errorRate": 1.0}
    assert colour_stats(silent) == "no answer (error rate 100%)"


def test_the_result_panel_reads_our_phase_beside_panda_s_status() -> None:
    # ADR 0024: the result's status is Panda's (COMPLETED); ours is phase (SUCCEEDED)
    ok = _result_panel({"status": "COMPLETED", "phase": "SUCCEEDED", "colour": "blue"})
    assert "status      SUCCEEDED" in str(ok.renderable) and ok.border_style == "green"
    failed = _result_panel({"status": "FAILED", "phase": "CANCELLED", "errorCode": "CANCELLED"})
    assert failed.border_style == "red"
