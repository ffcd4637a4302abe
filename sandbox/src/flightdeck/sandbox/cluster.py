"""The API server's write semantics, shared by REST requests and the controllers.

Create, update, patch and delete with what a real server does around them:
system metadata, defaulting, validation, optimistic concurrency, generation,
field ownership, status kept apart from spec, graceful pod deletion and
garbage collection of dependents. Objects are plain JSON dicts.
"""

from __future__ import annotations

import copy
import random
import uuid
from datetime import timedelta
from typing import Any

from flightdeck.sandbox import (
    clock,
    defaults,
    fieldsets,
    patching,
    resources,
    selectors,
    validation,
)
from flightdeck.sandbox.resources import ResourceType
from flightdeck.sandbox.status import (
    ApiError,
    already_exists,
    bad_request,
    invalid,
    not_found,
    stale,
)
from flightdeck.sandbox.store import Obj, Store

NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SYSTEM_METADATA = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
)
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"


def suffix(rng: random.Random, length: int = 5) -> str:
    """A random name suffix in the alphabet Kubernetes uses (no vowels, no look-alikes)."""
    return "".join(rng.choice(NAME_ALPHABET) for _ in range(length))


class Cluster:
    """All writes go through here so every client sees the same rules.

    Args:
        store: where objects live.
        rng: names, cluster IPs and uids come from it, so a seed repeats a run.
    """

    def __init__(self, store: Store, rng: random.Random) -> None:
        self.store = store
        self.rng = rng
        self._next_ip = 10

    # -- reads -----------------------------------------------------------------

    def get(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        found = self.store.get(rtype.key, namespace if rtype.namespaced else "", name)
        if found is None:
            raise not_found(rtype, name)
        return found

    def find(self, rtype: ResourceType, namespace: str, name: str) -> Obj | None:
        return self.store.get(rtype.key, namespace if rtype.namespaced else "", name)

    def list(
        self,
        rtype: ResourceType,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
    ) -> list[Obj]:
        try:
            labels = selectors.parse_labels(label_selector)
            fields = selectors.parse_fields(field_selector)
        except selectors.SelectorError as exc:
            raise bad_request(str(exc)) from exc
        return [
            o
            for o in self.store.list(rtype.key, namespace or None)
            if selectors.matches_labels(labels, o["metadata"].get("labels"))
            and selectors.matches_fields(fields, o)
        ]

    # -- create ----------------------------------------------------------------

    def create(
        self,
        rtype: ResourceType,
        namespace: str,
        body: Any,
        *,
        manager: str,
        dry_run: bool = False,
        managed: bool = True,
    ) -> Obj:
        """POST semantics. ``managed=False`` keeps the body's managedFields (server-side apply)."""
        obj = self._checked_body(rtype, namespace, body)
        meta = obj["metadata"]
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + suffix(self.rng)
        if meta.get("resourceVersion"):
            raise bad_request("resourceVersion should not be set on objects to be created")
        kept_fields = meta.get("managedFields") if not managed else None
        for key in _SYSTEM_METADATA:
            meta.pop(key, None)
        self._require_namespace(rtype, namespace, meta.get("name", ""))
        if rtype.has_status:
            obj.pop("status", None)
        defaults.apply_defaults(rtype.key, obj)
        if causes := validation.validate(rtype.key, obj):
            raise invalid(rtype, meta.get("name", ""), causes)
        if self.find(rtype, namespace, meta["name"]) is not None:
            raise already_exists(rtype, meta["name"])
        meta["uid"] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        meta["creationTimestamp"] = clock.rfc3339()
        if rtype.spec_generation:
            meta["generation"] = 1
        if rtype.key == "services":
            self._allocate_cluster_ip(obj)
        if managed:
            fieldsets.record_update(None, obj, manager, rtype.api_version, clock.rfc3339())
        elif kept_fields is not None:
            meta["managedFields"] = kept_fields
        if dry_run:
            return obj
        return self.store.put(rtype.key, obj)

    def _checked_body(self, rtype: ResourceType, namespace: str, body: Any) -> Obj:
        if not isinstance(body, dict):
            raise bad_request("the body of the request was in an unknown format")
        obj = copy.deepcopy(body)
        api_version, kind = (
            obj.setdefault("apiVersion", rtype.api_version),
            obj.setdefault("kind", rtype.kind),
        )
        if (api_version, kind) != (rtype.api_version, rtype.kind):
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the "
                f"expected API version ({rtype.api_version})"
                if api_version != rtype.api_version
                else f"the kind in the data ({kind}) does not match {rtype.kind}"
            )
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if rtype.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the "
                    "namespace sent on the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        return obj

    def _require_namespace(self, rtype: ResourceType, namespace: str, name: str) -> None:
        if not rtype.namespaced:
            return
        ns = self.store.get("namespaces", "", namespace)
        if ns is None:
            raise not_found(resources.NAMESPACES, namespace)
        if ns.get("status", {}).get("phase") == "Terminating":
            raise ApiError(
                403,
                f'{rtype.qualified()} "{name}" is forbidden: unable to create new '
                f"content in namespace {namespace} because it is being terminated",
                "Forbidden",
            )

    def _allocate_cluster_ip(self, obj: Obj) -> None:
        spec = obj["spec"]
        if spec["type"] == "ExternalName" or spec.get("clusterIP") == "None":
            return
        if not spec.get("clusterIP"):
            taken = {o["spec"].get("clusterIP") for o in self.store.list("services")}
            while (candidate := f"10.96.{self._next_ip // 250}.{self._next_ip % 250 + 2}") in taken:
                self._next_ip += 1
            self._next_ip += 1
            spec["clusterIP"] = candidate
        spec["clusterIPs"] = [spec["clusterIP"]]

    # -- update and patch -------------------------------------------------------

    def update(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        body: Any,
        *,
        manager: str,
        subresource: str = "",
        dry_run: bool = False,
        managed: bool = True,
    ) -> Obj:
        """PUT semantics: replace the object (or only its status through ``/status``)."""
        current = self.get(rtype, namespace, name)
        obj = self._checked_body(rtype, namespace, body)
        meta = obj["metadata"]
        if meta.get("name", name) != name:
            raise bad_request(
                f"the name of the object ({meta['name']}) does not match the name "
                f"on the URL ({name})"
            )
        meta["name"] = name
        wanted_rv = meta.get("resourceVersion")
        if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
            raise stale(rtype, name)
        if subresource == "status":
            obj = {**copy.deepcopy(current), "status": obj.get("status", {})}
            meta = obj["metadata"]
        else:
            kept_fields = meta.get("managedFields")
            for key in _SYSTEM_METADATA:
                meta.pop(key, None)
                if key in current["metadata"]:
                    meta[key] = copy.deepcopy(current["metadata"][key])
            if not managed and kept_fields is not None:
                meta["managedFields"] = kept_fields
            if rtype.has_status:
                obj["status"] = copy.deepcopy(current.get("status", {}))
            defaults.apply_defaults(rtype.key, obj)
            if rtype.key == "services":
                self._allocate_cluster_ip(obj)
            if causes := validation.validate_update(rtype.key, current, obj):
                raise invalid(rtype, name, causes)
        if managed:
            fieldsets.record_update(
                current, obj, manager, rtype.api_version, clock.rfc3339(), subresource
            )
        return self._save(rtype, current, obj, dry_run)

    def _save(self, rtype: ResourceType, current: Obj, obj: Obj, dry_run: bool) -> Obj:
        """Store unless nothing changed (a no-op write keeps its resourceVersion)."""
        meta = obj["metadata"]
        meta["resourceVersion"] = current["metadata"]["resourceVersion"]
        if rtype.spec_generation and obj.get("spec") != current.get("spec"):
            meta["generation"] = int(current["metadata"].get("generation", 1)) + 1
        if dry_run:
            return obj
        if _unchanged(obj, current):
            return current
        return self.store.put(rtype.key, obj)

    def patch(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        content_type: str,
        body: Any,
        *,
        manager: str | None,
        force: bool = False,
        subresource: str = "",
        dry_run: bool = False,
    ) -> Obj:
        """PATCH in any of the four formats; apply creates the object when it is missing."""
        if content_type == APPLY:
            return self._apply(rtype, namespace, name, body, manager, force, dry_run)
        current = self.get(rtype, namespace, name)
        try:
            if content_type == MERGE:
                patched = patching.json_merge(current, body)
            elif content_type == STRATEGIC:
                patched = patching.strategic_merge(current, body)
            elif content_type == JSON_PATCH:
                patched = patching.json_patch(current, body)
            else:
                raise ApiError(
                    415,
                    f"the body of the request was in an unknown format - accepted "
                    f"media types include: {JSON_PATCH}, {MERGE}, {STRATEGIC}, {APPLY}",
                )
        except patching.PatchError as exc:
            raise ApiError(422, str(exc), "Invalid") from exc
        return self.update(
            rtype,
            namespace,
            name,
            patched,
            manager=manager or "unknown",
            subresource=subresource,
            dry_run=dry_run,
        )

    def _apply(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        config: Any,
        manager: str | None,
        force: bool,
        dry_run: bool,
    ) -> Obj:
        if not manager:
            raise bad_request("PATCH requests with apply content type must have a fieldManager")
        if not isinstance(config, dict):
            raise bad_request("apply patches must be objects")
        config = {**config, "metadata": {**(config.get("metadata") or {}), "name": name}}
        if rtype.namespaced:
            config["metadata"].setdefault("namespace", namespace)
        current = self.find(rtype, namespace, name)
        base = current or {
            "apiVersion": rtype.api_version,
            "kind": rtype.kind,
            "metadata": {"name": name, "namespace": namespace},
        }
        try:
            result = fieldsets.apply(
                base,
                config,
                manager,
                force=force,
                api_version=rtype.api_version,
                time=clock.rfc3339(),
            )
        except fieldsets.ApplyConflicts as exc:
            raise _apply_conflict(exc) from exc
        if current is None:
            return self.create(
                rtype, namespace, result, manager=manager, dry_run=dry_run, managed=False
            )
        return self.update(
            rtype, namespace, name, result, manager=manager, dry_run=dry_run, managed=False
        )

    # -- delete ----------------------------------------------------------------

    def delete(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        *,
        grace_seconds: int | None = None,
        propagation: str = "Background",
        preconditions: dict[str, str] | None = None,
        dry_run: bool = False,
    ) -> Obj | None:
        """DELETE semantics. Returns the object for pods and namespaces, None for a plain Status."""
        current = self.get(rtype, namespace, name)
        for field in ("uid", "resourceVersion"):
            wanted = (preconditions or {}).get(field)
            if wanted and wanted != current["metadata"].get(field):
                raise stale(rtype, name)
        if dry_run:
            return current
        if rtype.key == "pods":
            return self._delete_pod(current, grace_seconds)
        if rtype.key == "namespaces":
            return self._delete_namespace(current)
        self.store.remove(rtype.key, namespace if rtype.namespaced else "", name)
        self._collect_dependents(current, propagation)
        return None

    def _delete_pod(self, pod: Obj, grace_seconds: int | None) -> Obj:
        """Graceful deletion: the kubelet stops the containers, then the pod goes."""
        meta = pod["metadata"]
        grace = (
            grace_seconds
            if grace_seconds is not None
            else int(pod["spec"].get("terminationGracePeriodSeconds", 30))
        )
        if grace <= 0 or not pod["spec"].get("nodeName"):
            return self.store.remove("pods", meta["namespace"], meta["name"]) or pod
        if meta.get("deletionTimestamp"):
            return pod
        updated = copy.deepcopy(pod)
        updated["metadata"]["deletionTimestamp"] = clock.rfc3339(
            clock.now() + timedelta(seconds=grace)
        )
        updated["metadata"]["deletionGracePeriodSeconds"] = grace
        return self.store.put("pods", updated)

    def _delete_namespace(self, ns: Obj) -> Obj:
        name = ns["metadata"]["name"]
        terminating = copy.deepcopy(ns)
        terminating["metadata"]["deletionTimestamp"] = clock.rfc3339()
        terminating["status"]["phase"] = "Terminating"
        terminating = self.store.put("namespaces", terminating)
        for rtype in resources.ALL:
            if rtype.namespaced and not rtype.virtual:
                for obj in self.store.list(rtype.key, name):
                    self.store.remove(rtype.key, name, obj["metadata"]["name"])
        self.store.remove("namespaces", "", name)
        return terminating

    def _collect_dependents(self, owner: Obj, propagation: str) -> None:
        """The garbage collector: dependents go too, unless the client asked to orphan them."""
        uid = owner["metadata"]["uid"]
        namespace = owner["metadata"].get("namespace", "")
        for rtype in (resources.REPLICASETS, resources.PODS):
            for obj in self.store.list(rtype.key, namespace):
                refs = obj["metadata"].get("ownerReferences") or []
                if not any(r.get("uid") == uid for r in refs):
                    continue
                if propagation == "Orphan":
                    orphan = copy.deepcopy(obj)
                    orphan["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                    self.store.put(rtype.key, orphan)
                elif rtype.key == "pods":
                    self._delete_pod(obj, None)
                else:
                    self.store.remove(rtype.key, namespace, obj["metadata"]["name"])
                    self._collect_dependents(obj, propagation)

    # -- controllers' own writes -----------------------------------------------

    def write(self, rtype: ResourceType, obj: Obj) -> Obj:
        """A controller's write: no validation, generation follows spec, no-ops skipped."""
        meta = obj["metadata"]
        current = self.store.get(rtype.key, meta.get("namespace") or "", meta["name"])
        if current is None:
            return self.store.put(rtype.key, obj)
        return self._save(rtype, current, obj, dry_run=False)


def _unchanged(new: Obj, current: Obj) -> bool:
    """Equal but for the times in managedFields (a no-op apply keeps its resourceVersion)."""
    if new == current:
        return True

    def timeless(obj: Obj) -> Obj:
        fields = [
            {k: v for k, v in e.items() if k != "time"}
            for e in obj["metadata"].get("managedFields") or []
        ]
        return {**obj, "metadata": {**obj["metadata"], "managedFields": fields}}

    return timeless(new) == timeless(current)


def _apply_conflict(exc: fieldsets.ApplyConflicts) -> ApiError:
    lines = "\n".join(f"- {c.message()}: {c.field()}" for c in exc.conflicts)
    first = exc.conflicts[0]
    message = (
        f"Apply failed with {len(exc.conflicts)} conflict: {first.message()}: {first.field()}"
        if len(exc.conflicts) == 1
        else f"Apply failed with {len(exc.conflicts)} conflicts: conflicts with {lines}"
    )
    causes = [
        {"type": "FieldManagerConflict", "message": c.message(), "field": c.field()}
        for c in exc.conflicts
    ]
    return ApiError(409, message, "Conflict", {"causes": causes})
