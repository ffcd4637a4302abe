"""Label and field selectors: parse the query-string forms, match objects.

Pure functions, no I/O. The grammar follows ``k8s.io/apimachinery/pkg/labels``:
equality (``a=b``, ``a==b``, ``a!=b``), sets (``a in (x,y)``, ``a notin (x)``)
and existence (``a``, ``!a``), joined by commas.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_KEY = re.compile(
    r"^([a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$"
)


class SelectorError(ValueError):
    """A selector string that does not parse; the API answers 400 BadRequest."""


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        return not present


Selector = tuple[Requirement, ...]


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside a ``(...)`` value set."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _check_key(key: str, source: str) -> str:
    if not _KEY.match(key):
        raise SelectorError(f"unable to parse requirement: invalid label key {key!r} in {source!r}")
    return key


_SET = re.compile(r"^(\S+)\s+(in|notin)\s*\((.*)\)$")


def _requirement(part: str, source: str) -> Requirement:
    if found := _SET.match(part):
        key, op, raw = found.groups()
        values = tuple(v.strip() for v in raw.split(",") if v.strip())
        return Requirement(_check_key(key, source), op, values)
    for op in ("!=", "==", "="):
        if op in part:
            key, _, value = part.partition(op)
            return Requirement(
                _check_key(key.strip(), source), "!=" if op == "!=" else "=", (value.strip(),)
            )
    if part.startswith("!"):
        return Requirement(_check_key(part[1:].strip(), source), "!")
    return Requirement(_check_key(part, source), "exists")


def parse_labels(text: str | None) -> Selector:
    """Parse a ``labelSelector`` query value; empty means everything."""
    if not text:
        return ()
    return tuple(_requirement(part, text) for part in _split_top_level(text))


def from_label_selector(selector: Mapping[str, Any] | None) -> Selector:
    """Convert a structured ``LabelSelector`` (matchLabels + matchExpressions)."""
    if not selector:
        return ()
    reqs = [
        Requirement(k, "=", (str(v),))
        for k, v in sorted((selector.get("matchLabels") or {}).items())
    ]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        op = ops.get(expr.get("operator", ""))
        if op is None:
            raise SelectorError(f"{expr.get('operator')!r} is not a valid label selector operator")
        reqs.append(Requirement(expr["key"], op, tuple(expr.get("values") or ())))
    return tuple(reqs)


def render(selector: Selector) -> str:
    """The canonical string form, as ``Scale.status.selector`` and kubectl show it."""
    out = []
    for req in selector:
        if req.op in ("=", "!="):
            out.append(f"{req.key}{req.op}{req.values[0]}")
        elif req.op in ("in", "notin"):
            out.append(f"{req.key} {req.op} ({','.join(sorted(req.values))})")
        elif req.op == "exists":
            out.append(req.key)
        else:
            out.append(f"!{req.key}")
    return ",".join(out)


def matches_labels(selector: Selector, labels: Mapping[str, str] | None) -> bool:
    labels = labels or {}
    return all(req.matches(labels) for req in selector)


@dataclass(frozen=True)
class FieldRequirement:
    path: tuple[str, ...]
    equal: bool
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        found = field_value(obj, self.path)
        return (found == self.value) is self.equal


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_fields(text: str | None) -> tuple[FieldRequirement, ...]:
    """Parse a ``fieldSelector`` query value (``metadata.name=x,status.phase!=Failed``)."""
    if not text:
        return ()
    reqs = []
    for part in _split_unescaped(text, ","):
        if not part.strip():
            continue
        for op in ("!=", "==", "="):
            if op in part:
                path, _, value = part.partition(op)
                reqs.append(FieldRequirement(tuple(path.strip().split(".")), op != "!=", value))
                break
        else:
            raise SelectorError(f"invalid selector: {part!r}; can't understand {part!r}")
    return tuple(reqs)


def field_value(obj: Mapping[str, Any], path: tuple[str, ...]) -> str:
    """A field's value as the API compares it: a string, "" when missing."""
    current: Any = obj
    for name in path:
        if not isinstance(current, Mapping):
            return ""
        current = current.get(name)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def matches_fields(reqs: tuple[FieldRequirement, ...], obj: Mapping[str, Any]) -> bool:
    return all(req.matches(obj) for req in reqs)
