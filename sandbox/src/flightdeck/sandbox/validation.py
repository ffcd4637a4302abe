"""The validation the real API server does for the fields clients get wrong.

Each function returns causes as ``(field, reason, message)``; an empty list
means valid. The REST layer turns causes into a 422 ``Invalid`` Status.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flightdeck.sandbox import selectors

Obj = dict[str, Any]
Cause = tuple[str, str, str]

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_KEYS = {"namespaces", "services"}


def _required(field: str) -> Cause:
    return (field, "FieldValueRequired", "Required value")


def _invalid(field: str, value: Any, why: str) -> Cause:
    return (field, "FieldValueInvalid", f"Invalid value: {value!r}: {why}")


def name(key: str, obj: Obj) -> list[Cause]:
    value = obj.get("metadata", {}).get("name")
    if not value:
        return [
            (
                "metadata.name",
                "FieldValueRequired",
                "Required value: name or generateName is required",
            )
        ]
    if key in _LABEL_KEYS:
        ok, why = bool(_LABEL.match(value)) and len(value) <= 63, "a lowercase RFC 1123 label"
    else:
        ok, why = (
            bool(_SUBDOMAIN.match(value)) and len(value) <= 253,
            "a lowercase RFC 1123 subdomain",
        )
    if ok:
        return []
    return [_invalid("metadata.name", value, f"must be {why} (e.g. 'my-name')")]


def _containers(spec: Obj, prefix: str) -> list[Cause]:
    containers = spec.get("containers")
    if not containers:
        return [_required(f"{prefix}.containers")]
    causes, seen = [], set()
    for n, container in enumerate(containers):
        where = f"{prefix}.containers[{n}]"
        if not container.get("name"):
            causes.append(_required(f"{where}.name"))
        elif container["name"] in seen:
            causes.append(
                (f"{where}.name", "FieldValueDuplicate", f"Duplicate value: {container['name']!r}")
            )
        seen.add(container.get("name"))
        if not container.get("image"):
            causes.append(_required(f"{where}.image"))
    return causes


def pod(obj: Obj) -> list[Cause]:
    return _containers(obj.get("spec") or {}, "spec")


def _workload(obj: Obj) -> list[Cause]:
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return [_required("spec.selector")]
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    causes = _containers(template.get("spec") or {}, "spec.template.spec")
    try:
        matched = selectors.matches_labels(selectors.from_label_selector(selector), labels)
    except selectors.SelectorError as exc:
        return [*causes, _invalid("spec.selector", selector, str(exc))]
    if not matched:
        causes.append(
            _invalid(
                "spec.template.metadata.labels",
                labels,
                "`selector` does not match template `labels`",
            )
        )
    if int(spec.get("replicas", 1)) < 0:
        causes.append(
            _invalid("spec.replicas", spec["replicas"], "must be greater than or equal to 0")
        )
    return causes


def service(obj: Obj) -> list[Cause]:
    spec = obj.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return [] if spec.get("externalName") else [_required("spec.externalName")]
    ports = spec.get("ports")
    if not ports:
        return [_required("spec.ports")]
    causes = []
    for n, port in enumerate(ports):
        number = port.get("port")
        if not isinstance(number, int) or not 0 < number < 65536:
            causes.append(_invalid(f"spec.ports[{n}].port", number, "must be between 1 and 65535"))
        if len(ports) > 1 and not port.get("name"):
            causes.append(_required(f"spec.ports[{n}].name"))
    return causes


def ingress(obj: Obj) -> list[Cause]:
    causes = []
    for r, rule in enumerate((obj.get("spec") or {}).get("rules") or []):
        for p, path in enumerate((rule.get("http") or {}).get("paths") or []):
            where = f"spec.rules[{r}].http.paths[{p}]"
            if path.get("pathType") not in ("Exact", "Prefix", "ImplementationSpecific"):
                causes.append(
                    _required(f"{where}.pathType")
                    if not path.get("pathType")
                    else _invalid(
                        f"{where}.pathType",
                        path["pathType"],
                        'supported values: "Exact", "ImplementationSpecific", "Prefix"',
                    )
                )
            if not ((path.get("backend") or {}).get("service") or {}).get("name"):
                causes.append(_required(f"{where}.backend.service.name"))
    return causes


BY_KEY: dict[str, Callable[[Obj], list[Cause]]] = {
    "pods": pod,
    "deployments.apps": _workload,
    "replicasets.apps": _workload,
    "services": service,
    "ingresses.networking.k8s.io": ingress,
}


def validate(key: str, obj: Obj) -> list[Cause]:
    check = BY_KEY.get(key)
    return name(key, obj) + (check(obj) if check else [])


def validate_update(key: str, old: Obj, new: Obj) -> list[Cause]:
    """Fields that may not change once set."""
    causes = validate(key, new)
    selector_changed = (old.get("spec") or {}).get("selector") != (new.get("spec") or {}).get(
        "selector"
    )
    if key in ("deployments.apps", "replicasets.apps") and selector_changed:
        causes.append(
            (
                "spec.selector",
                "FieldValueInvalid",
                f"Invalid value: {new['spec'].get('selector')!r}: field is immutable",
            )
        )
    if key == "services":
        before, after = old["spec"].get("clusterIP"), (new.get("spec") or {}).get("clusterIP")
        if after and before != after:
            causes.append(
                (
                    "spec.clusterIP",
                    "FieldValueInvalid",
                    f"Invalid value: {after!r}: field is immutable",
                )
            )
    if key == "pods":
        causes += _pod_update(old, new)
    return causes


def _pod_update(old: Obj, new: Obj) -> list[Cause]:
    """A pod's spec is fixed except its container images (as on a real cluster)."""

    def without_images(spec: Obj) -> Obj:
        containers = [
            {k: v for k, v in c.items() if k != "image"} for c in spec.get("containers") or []
        ]
        return {
            **{k: v for k, v in spec.items() if k not in ("tolerations", "activeDeadlineSeconds")},
            "containers": containers,
        }

    if without_images(old.get("spec") or {}) != without_images(new.get("spec") or {}):
        return [
            (
                "spec",
                "FieldValueForbidden",
                "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, "
                "`spec.activeDeadlineSeconds` or `spec.tolerations` (only additions to existing tolerations)",
            )
        ]
    return []
