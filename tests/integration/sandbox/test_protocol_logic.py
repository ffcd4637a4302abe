"""The sandbox's pure protocol rules, without a server: selectors, patches, apply, tables, rollouts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flightdeck.sandbox import fieldsets, patching, selectors, tables
from flightdeck.sandbox.controllers import rollout

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("app=web", {"app": "web"}, True),
        ("app==web,tier!=db", {"app": "web", "tier": "db"}, False),
        ("env in (prod, staging)", {"env": "staging"}, True),
        ("env notin (prod)", {}, True),
        ("!canary", {"canary": "1"}, False),
        ("canary", {"canary": ""}, True),
        ("", {"anything": "x"}, True),
    ],
)
def test_label_selectors(text: str, labels: dict[str, str], expected: bool) -> None:
    assert selectors.matches_labels(selectors.parse_labels(text), labels) is expected


def test_bad_label_selector_is_refused() -> None:
    with pytest.raises(selectors.SelectorError):
        selectors.parse_labels("a b c")


def test_field_selectors_read_nested_fields() -> None:
    pod = {"metadata": {"name": "x"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}
    assert selectors.matches_fields(
        selectors.parse_fields("metadata.name=x,status.phase!=Failed"), pod
    )
    assert not selectors.matches_fields(selectors.parse_fields("spec.nodeName="), pod)


def test_structured_selector_renders_like_kubectl() -> None:
    selector = {
        "matchLabels": {"b": "2", "a": "1"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "dev"]},
            {"key": "x", "operator": "DoesNotExist"},
        ],
    }
    assert (
        selectors.render(selectors.from_label_selector(selector)) == "a=1,b=2,env in (dev,prod),!x"
    )


def test_strategic_merge_merges_containers_by_name_and_honours_directives() -> None:
    original = {
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "v1",
                    "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                },
                {"name": "side", "image": "s1"},
            ],
            "ports": [{"port": 80}],
        }
    }
    patch = {
        "spec": {
            "$setElementOrder/containers": [{"name": "app"}],
            "containers": [
                {"name": "app", "image": "v2", "env": [{"name": "A", "$patch": "delete"}]},
                {"name": "side", "$patch": "delete"},
            ],
            "ports": [{"port": 80, "name": "http"}, {"port": 443}],
        }
    }

    merged = patching.strategic_merge(original, patch)

    assert merged["spec"]["containers"] == [
        {"name": "app", "image": "v2", "env": [{"name": "B", "value": "2"}]}
    ]
    assert merged["spec"]["ports"] == [{"port": 80, "name": "http"}, {"port": 443}]
    assert original["spec"]["containers"][0]["image"] == "v1"


def test_json_merge_and_json_patch() -> None:
    assert patching.json_merge({"a": {"b": 1, "c": 2}}, {"a": {"b": None, "d": 3}}) == {
        "a": {"c": 2, "d": 3}
    }
    doc = {"spec": {"replicas": 1, "list": [1, 2]}}
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/spec/list/-", "value": 9},
        {"op": "remove", "path": "/spec/list/0"},
    ]
    assert patching.json_patch(doc, ops) == {"spec": {"replicas": 3, "list": [2, 9]}}
    with pytest.raises(patching.PatchError):
        patching.json_patch(doc, [{"op": "test", "path": "/spec/replicas", "value": 2}])


def test_apply_owns_fields_removes_dropped_ones_and_reports_conflicts() -> None:
    base = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    first = fieldsets.apply(
        base,
        {"metadata": {"name": "x", "labels": {"a": "1", "b": "2"}}},
        "alice",
        force=False,
        api_version="v1",
        time="t1",
    )
    second = fieldsets.apply(
        first,
        {"metadata": {"name": "x", "labels": {"a": "1"}}},
        "alice",
        force=False,
        api_version="v1",
        time="t2",
    )

    assert second["metadata"]["labels"] == {"a": "1"}
    with pytest.raises(fieldsets.ApplyConflicts) as conflict:
        fieldsets.apply(
            second,
            {"metadata": {"name": "x", "labels": {"a": "9"}}},
            "bob",
            force=False,
            api_version="v1",
            time="t3",
        )
    assert conflict.value.conflicts[0].field() == ".metadata.labels.a"
    shared = fieldsets.apply(
        second,
        {"metadata": {"name": "x", "labels": {"a": "1"}}},
        "bob",
        force=False,
        api_version="v1",
        time="t3",
    )
    assert {e["manager"] for e in shared["metadata"]["managedFields"]} == {"alice", "bob"}


def test_human_durations_match_kubectl() -> None:
    assert [tables.human_duration(s) for s in (0, 59, 119, 125, 600, 4000, 30000, 200000)] == [
        "0s",
        "59s",
        "119s",
        "2m5s",
        "10m",
        "66m",
        "8h",
        "2d7h",
    ]


def test_pod_status_column_follows_the_container_states() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    pod = {
        "metadata": {
            "name": "p",
            "creationTimestamp": (now - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "spec": {"containers": [{"name": "app"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": False,
                    "restartCount": 3,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {
                        "terminated": {
                            "finishedAt": (now - timedelta(seconds=40)).strftime(
                                "%Y-%m-%dT%H:%M:%SZ"
                            )
                        }
                    },
                }
            ],
        },
    }

    row = tables.table("pods", [pod], "7", now=now)["rows"][0]["cells"]

    assert row[:5] == ["p", "0/1", "CrashLoopBackOff", "3 (40s ago)", "3m"]


def test_rolling_update_fenceposts_and_rollout_status() -> None:
    deployment = {
        "metadata": {"name": "web", "generation": 2},
        "spec": {
            "replicas": 4,
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        },
        "status": {
            "observedGeneration": 2,
            "replicas": 5,
            "updatedReplicas": 4,
            "availableReplicas": 4,
        },
    }

    assert rollout.fenceposts(deployment) == (1, 1)
    assert rollout.new_rs_target(4, 1, 4, 0) == 1
    assert rollout.rollout_status(deployment) == (
        'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
        False,
    )
    deployment["status"]["conditions"] = [
        {"type": "Progressing", "reason": "ProgressDeadlineExceeded"}
    ]
    with pytest.raises(rollout.RolloutFailed):
        rollout.rollout_status(deployment)
