"""Server-side apply: who owns which field, conflicts, and ``managedFields``.

A field path is a tuple of tokens in the ``FieldsV1`` spelling the real API
server writes into ``metadata.managedFields``: ``f:<name>`` for a map key,
``k:{"name":"app"}`` for a list item identified by its merge key, ``v:<json>``
for a member of a set of scalars. Pure functions; the caller stores the result.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from flightdeck.sandbox.patching import PRIMITIVE_SETS, merge_key, strategic_merge

Path = tuple[str, ...]
_ITEM = object()  # the value recorded for "this list item exists"
_SYSTEM_METADATA = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "selfLink",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    }
)


@dataclass
class ManagerEntry:
    manager: str
    operation: str  # "Apply" or "Update"
    api_version: str
    time: str
    paths: set[Path] = field(default_factory=set)
    subresource: str = ""


@dataclass(frozen=True)
class Conflict:
    manager: str
    api_version: str
    subresource: str
    path: Path

    def field(self) -> str:
        return render_path(self.path)

    def message(self) -> str:
        sub = f' with subresource "{self.subresource}"' if self.subresource else ""
        return f'conflict with "{self.manager}"{sub} using {self.api_version}'


class ApplyConflicts(Exception):
    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__(f"Apply failed with {len(conflicts)} conflict(s)")
        self.conflicts = conflicts


def owned_part(obj: dict[str, Any], subresource: str = "") -> dict[str, Any]:
    """The part of an object field ownership is tracked for (status only via its subresource)."""
    if subresource == "status":
        return {"status": obj["status"]} if "status" in obj else {}
    out = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "status")}
    if isinstance(out.get("metadata"), dict):
        out["metadata"] = {k: v for k, v in out["metadata"].items() if k not in _SYSTEM_METADATA}
        if not out["metadata"]:
            del out["metadata"]
    return out


def leaves(value: Any) -> dict[Path, Any]:
    """Every owned field path of a JSON value, with the value found there."""
    out: dict[Path, Any] = {}
    _walk(value, (), None, out)
    return out


def _item_token(key: str, value: Any) -> str:
    return "k:" + json.dumps({key: value}, separators=(",", ":"))


def _walk(value: Any, path: Path, name: str | None, out: dict[Path, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            _walk(child, (*path, f"f:{key}"), key, out)
        return
    if isinstance(value, list) and value and name is not None:
        if name in PRIMITIVE_SETS:
            for member in value:
                out[(*path, "v:" + json.dumps(member))] = member
            return
        key = merge_key(name, value)
        if key and all(isinstance(i, dict) and key in i for i in value):
            for item in value:
                item_path = (*path, _item_token(key, item[key]))
                out[item_path] = _ITEM
                for child_key, child in item.items():
                    _walk(child, (*item_path, f"f:{child_key}"), child_key, out)
            return
    if path:
        out[path] = value


def value_at(obj: Any, path: Path) -> tuple[bool, Any]:
    """Follow a field path; ``(False, None)`` when it is not there."""
    current = obj
    for token in path:
        kind, _, rest = token.partition(":")
        if kind == "f" and isinstance(current, dict) and rest in current:
            current = current[rest]
        elif kind == "k" and isinstance(current, list):
            ((key, wanted),) = json.loads(rest).items()
            current = next(
                (i for i in current if isinstance(i, dict) and i.get(key) == wanted), None
            )
            if current is None:
                return False, None
        elif kind == "v" and isinstance(current, list):
            member = json.loads(rest)
            return (member in current), member
        else:
            return False, None
    return True, current


def remove_at(obj: Any, path: Path) -> None:
    """Delete the field (or list item, or set member) a path points at, if present."""
    found, parent = value_at(obj, path[:-1])
    if not found:
        return
    kind, _, rest = path[-1].partition(":")
    if kind == "f" and isinstance(parent, dict):
        parent.pop(rest, None)
    elif kind == "k" and isinstance(parent, list):
        ((key, wanted),) = json.loads(rest).items()
        parent[:] = [i for i in parent if not (isinstance(i, dict) and i.get(key) == wanted)]
    elif kind == "v" and isinstance(parent, list):
        member = json.loads(rest)
        parent[:] = [m for m in parent if m != member]


def render_path(path: Path) -> str:
    """``.spec.template.spec.containers[name="app"].image``, as conflict causes name fields."""
    out = []
    for token in path:
        kind, _, rest = token.partition(":")
        if kind == "f":
            out.append(f".{rest}")
        elif kind == "k":
            ((key, value),) = json.loads(rest).items()
            out.append(f"[{key}={json.dumps(value)}]")
        else:
            out.append(f"[={rest}]")
    return "".join(out)


def _to_fields_v1(paths: set[Path], markers: set[Path]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for token in path:
            node = node.setdefault(token, {})
        if path in markers:
            node["."] = {}
    return root


def _from_fields_v1(node: dict[str, Any], path: Path, out: set[Path]) -> None:
    if not node:
        out.add(path)
        return
    for token, child in node.items():
        if token == ".":
            out.add(path)
        else:
            _from_fields_v1(child, (*path, token), out)


def read_entries(obj: dict[str, Any]) -> list[ManagerEntry]:
    entries = []
    for raw in (obj.get("metadata") or {}).get("managedFields") or []:
        paths: set[Path] = set()
        _from_fields_v1(raw.get("fieldsV1") or {}, (), paths)
        paths.discard(())
        entries.append(
            ManagerEntry(
                raw.get("manager", ""),
                raw.get("operation", "Update"),
                raw.get("apiVersion", ""),
                raw.get("time", ""),
                paths,
                raw.get("subresource", ""),
            )
        )
    return entries


def write_entries(obj: dict[str, Any], entries: list[ManagerEntry]) -> None:
    """Store the entries as ``metadata.managedFields``, dropping those that own nothing."""
    markers = {p for p, v in leaves(obj).items() if v is _ITEM}
    managed = []
    for entry in entries:
        if not entry.paths:
            continue
        raw: dict[str, Any] = {
            "manager": entry.manager,
            "operation": entry.operation,
            "apiVersion": entry.api_version,
            "time": entry.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": _to_fields_v1(entry.paths, markers),
        }
        if entry.subresource:
            raw["subresource"] = entry.subresource
        managed.append(raw)
    obj.setdefault("metadata", {})["managedFields"] = managed


def _entry(
    entries: list[ManagerEntry],
    manager: str,
    operation: str,
    api_version: str,
    time: str,
    subresource: str,
) -> ManagerEntry:
    for entry in entries:
        if (entry.manager, entry.operation, entry.subresource) == (manager, operation, subresource):
            entry.api_version, entry.time = api_version, time
            return entry
    entry = ManagerEntry(manager, operation, api_version, time, set(), subresource)
    entries.append(entry)
    return entry


def record_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    api_version: str,
    time: str,
    subresource: str = "",
) -> None:
    """Give ``manager`` the fields an update changed (an ``Update`` operation), in place."""
    entries = read_entries(old or new)
    tracked = "status" if subresource == "status" else ""
    before = leaves(owned_part(old, tracked)) if old else {}
    after = leaves(owned_part(new, tracked))
    changed = {
        p for p, v in after.items() if p not in before or (v is not _ITEM and before[p] != v)
    }
    for entry in entries:
        if (entry.subresource == "status") != (tracked == "status"):
            continue
        entry.paths &= set(after)  # fields the update removed are nobody's any more
        if entry.manager != manager:
            entry.paths -= changed
    if changed:
        _entry(entries, manager, "Update", api_version, time, subresource).paths |= changed
    write_entries(new, entries)


def apply(
    current: dict[str, Any],
    config: dict[str, Any],
    manager: str,
    *,
    force: bool,
    api_version: str,
    time: str,
) -> dict[str, Any]:
    """Server-side apply ``config`` as ``manager`` onto ``current``; returns the new object.

    Raises:
        ApplyConflicts: another manager owns a field this config sets to a different value
            (and ``force`` is false).
    """
    entries = read_entries(current)
    applied = leaves(owned_part(config))
    conflicts = []
    for entry in entries:
        if entry.subresource == "status" or (entry.manager, entry.operation) == (manager, "Apply"):
            continue
        for path in sorted(entry.paths & set(applied)):
            found, value = value_at(current, path)
            if applied[path] is not _ITEM and found and value != applied[path]:
                conflicts.append(
                    Conflict(entry.manager, entry.api_version, entry.subresource, path)
                )
    if conflicts and not force:
        raise ApplyConflicts(conflicts)
    taken = {c.path for c in conflicts}
    for entry in entries:
        entry.paths -= taken
    mine = _entry(entries, manager, "Apply", api_version, time, "")
    others = set().union(*(e.paths for e in entries if e is not mine))
    result = copy.deepcopy(current)
    doomed = mine.paths - set(applied) - others
    for path in sorted(doomed, key=len, reverse=True):
        if not any(
            path[:n] in doomed for n in range(1, len(path))
        ):  # a removed item takes its fields
            remove_at(result, path)
    mine.paths = set(applied)
    result = strategic_merge(result, config)
    write_entries(result, entries)
    return result
