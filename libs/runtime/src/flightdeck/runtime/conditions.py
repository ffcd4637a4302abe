"""A monitor's conditions (ADR 0027): Gatus-style expressions, parsed and evaluated. Pure.

A check passes when every condition of its monitor holds. One condition per string:

==============================================  ========================================
``[STATUS] == 200`` (also ``!= < <= > >=``)     the response status
``[STATUS] in 200..299``                        a range, or a set ``in (200, 204, 300..399)``;
                                                ``not in`` negates
``[RESPONSE_TIME] < 500ms``                     milliseconds (``ms`` optional); ``< <= > >=``
``[BODY] contains "ok"``                        a JSON string literal; ``not contains``
``$.status == "ok"``                            a JSONPath into the JSON body, compared with
                                                a JSON literal (string, number, true, false,
                                                null); ``== !=``, and ``< <= > >=`` on numbers
``[HEADER:Content-Type] contains "json"``       a response header (name case-insensitive);
                                                ``== != contains``, ``not contains``
``[CERTIFICATE_EXPIRATION] > 30 days``          days left on the TLS certificate
                                                (``30d``, ``30 days``); ``< <= > >=``
==============================================  ========================================

The JSONPath subset: ``$`` followed by ``.name`` (letters, digits, ``_``, ``-``),
``[N]`` (an array index, N ≥ 0) or ``["any key"]`` steps, e.g. ``$.items[0].state``.
No wildcards, filters, slices or recursive descent. A path that does not exist, or a
body that is not JSON, fails the condition (it does not raise).

:func:`parse` raises :class:`ConditionError` whose message names the condition, so
the gateway answers 400 with it at creation; :func:`evaluate` never raises.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_CONDITIONS = 20
MAX_CONDITION_LENGTH = 512


class ConditionError(ValueError):
    """A condition that cannot be parsed; the message names it."""

    def __init__(self, condition: str, why: str) -> None:
        super().__init__(f"condition {condition!r}: {why}")
        self.condition = condition
        self.why = why


@dataclass(frozen=True)
class Response:
    """What a check saw: the values the conditions are judged on."""

    status: int
    elapsed_ms: float
    body: str = ""
    headers: Mapping[str, str] | None = None
    cert_days_left: float | None = None
    """Days until the TLS certificate expires; None for plain HTTP."""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    condition: str
    detail: str
    """What was seen, for a person (``status 503``, ``$.status is "down"`` …)."""


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ORDER = ("<", "<=", ">", ">=")

_STATUS = re.compile(r"^\[STATUS\]\s*(==|!=|<=|>=|<|>)\s*(\d{3})$")
_STATUS_IN = re.compile(r"^\[STATUS\]\s+(not\s+in|in)\s+(.+)$")
_RANGE = re.compile(r"^(\d{3})\s*\.\.\s*(\d{3})$")
_TIME = re.compile(r"^\[RESPONSE_TIME\]\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*(ms)?$")
_BODY = re.compile(r"^\[BODY\]\s+(not\s+contains|contains)\s+(\".*\")$")
_HEADER = re.compile(
    r"^\[HEADER:([!#$%&'*+.^_`|~0-9A-Za-z-]+)\]\s*(==|!=|not\s+contains|contains)\s*(\".*\")$"
)
_CERT = re.compile(r"^\[CERTIFICATE_EXPIRATION\]\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*(d|days?)$")
_JSON = re.compile(r'^(\$(?:[^\s"]|"(?:[^"\\]|\\.)*")*)\s*(==|!=|<=|>=|<|>)\s*(.+)$')
_PLACEHOLDER = re.compile(r"^\[([A-Z_]+)(?::[^\]]*)?\]")
_PATH_STEP = re.compile(r'\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')

PLACEHOLDERS = (
    "[STATUS]",
    "[RESPONSE_TIME]",
    "[BODY]",
    "[HEADER:<name>]",
    "[CERTIFICATE_EXPIRATION]",
    "$<json path>",
)


@dataclass(frozen=True)
class Condition:
    """A parsed condition: ``text`` as written, and how to judge a response."""

    text: str
    kind: str
    op: str
    value: Any
    path: tuple[str | int, ...] = ()
    header: str = ""

    def evaluate(self, response: Response) -> Outcome:
        ok, seen = _judge(self, response)
        return Outcome(ok=ok, condition=self.text, detail=seen)


def parse(text: str) -> Condition:
    """One condition; :class:`ConditionError` names it when it is not one of the forms above."""
    if not isinstance(text, str):
        raise ConditionError(str(text), "must be a string")
    cond = text.strip()
    if not cond:
        raise ConditionError(text, "is empty")
    if len(cond) > MAX_CONDITION_LENGTH:
        raise ConditionError(cond[:40] + "…", f"longer than {MAX_CONDITION_LENGTH} characters")
    if m := _STATUS.match(cond):
        return Condition(cond, "status", m[1], int(m[2]))
    if m := _STATUS_IN.match(cond):
        op = "not in" if m[1] != "in" else "in"
        return Condition(cond, "status", op, _status_set(cond, m[2]))
    if m := _TIME.match(cond):
        return Condition(cond, "time", m[1], float(m[2]))
    if m := _BODY.match(cond):
        return Condition(cond, "body", _words(m[1]), _string(cond, m[2]))
    if m := _HEADER.match(cond):
        return Condition(cond, "header", _words(m[2]), _string(cond, m[3]), header=m[1].lower())
    if m := _CERT.match(cond):
        return Condition(cond, "cert", m[1], float(m[2]))
    if m := _JSON.match(cond):
        path = _path(cond, m[1])
        value = _literal(cond, m[3])
        if m[2] in _ORDER and not _is_number(value):
            raise ConditionError(cond, f"{m[2]} compares numbers; {m[3].strip()} is not one")
        return Condition(cond, "json", m[2], value, path=path)
    placeholder = _PLACEHOLDER.match(cond)
    if placeholder and f"[{placeholder[1]}]" not in PLACEHOLDERS and placeholder[1] != "HEADER":
        raise ConditionError(
            cond, f"unknown placeholder [{placeholder[1]}] (known: {', '.join(PLACEHOLDERS)})"
        )
    raise ConditionError(cond, "not a condition Flightdeck knows (see docs/api.md, Monitors)")


def parse_all(texts: Sequence[str]) -> list[Condition]:
    """Every condition of a monitor, the first bad one named."""
    if len(texts) > MAX_CONDITIONS:
        raise ConditionError(f"{len(texts)} conditions", f"at most {MAX_CONDITIONS} are allowed")
    return [parse(t) for t in texts]


def evaluate(conditions: Sequence[Condition], response: Response) -> list[Outcome]:
    """Each condition's outcome; the check passes when all are ok."""
    return [c.evaluate(response) for c in conditions]


# ----------------------------------------------------------------- parsing helpers


def _words(op: str) -> str:
    return " ".join(op.split())


def _status_set(cond: str, text: str) -> tuple[tuple[int, int], ...]:
    inner = text.strip()
    if inner.startswith("(") and inner.endswith(")"):
        inner = inner[1:-1]
    ranges = []
    for item in inner.split(","):
        item = item.strip()
        if m := _RANGE.match(item):
            low, high = int(m[1]), int(m[2])
        elif re.fullmatch(r"\d{3}", item):
            low = high = int(item)
        else:
            raise ConditionError(cond, f"{item!r} is not a status (200) or a range (200..299)")
        if not (100 <= low <= high <= 599):
            raise ConditionError(cond, f"{item!r} is not a range of statuses 100..599")
        ranges.append((low, high))
    return tuple(ranges)


def _string(cond: str, token: str) -> str:
    try:
        value = json.loads(token)
    except json.JSONDecodeError:
        raise ConditionError(cond, f"{token} is not a JSON string (use double quotes)") from None
    if not isinstance(value, str):
        raise ConditionError(cond, f"{token} is not a string")
    return value


def _literal(cond: str, token: str) -> Any:
    try:
        value = json.loads(token.strip())
    except json.JSONDecodeError:
        raise ConditionError(
            cond, f'{token.strip()} is not a JSON value (a "string", number, true, false, null)'
        ) from None
    if isinstance(value, dict | list):
        raise ConditionError(cond, "compare with a string, number, true, false or null")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConditionError(cond, "the number is not finite")
    return value


def _path(cond: str, text: str) -> tuple[str | int, ...]:
    steps: list[str | int] = []
    pos = 1  # after "$"
    while pos < len(text):
        m = _PATH_STEP.match(text, pos)
        if m is None:
            raise ConditionError(
                cond, f'JSONPath {text}: unsupported at {text[pos:]!r} (use .name, [0], ["key"])'
            )
        if m[1] is not None:
            steps.append(m[1])
        elif m[2] is not None:
            steps.append(int(m[2]))
        else:
            steps.append(json.loads(m[3]))
        pos = m.end()
    return tuple(steps)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# ----------------------------------------------------------------- evaluation


def _judge(c: Condition, r: Response) -> tuple[bool, str]:
    if c.kind == "status":
        seen = f"status {r.status}"
        if c.op in ("in", "not in"):
            inside = any(low <= r.status <= high for low, high in c.value)
            return (inside if c.op == "in" else not inside), seen
        return _COMPARE[c.op](r.status, c.value), seen
    if c.kind == "time":
        return _COMPARE[c.op](r.elapsed_ms, c.value), f"response time {r.elapsed_ms:.0f} ms"
    if c.kind == "body":
        found = c.value in r.body
        return (found if c.op == "contains" else not found), (
            "body contains it" if found else "body does not contain it"
        )
    if c.kind == "header":
        headers = {k.lower(): v for k, v in (r.headers or {}).items()}
        got = headers.get(c.header)
        if got is None:
            return c.op in ("!=", "not contains"), f"no {c.header} header"
        seen = f"{c.header}: {got[:80]}"
        if c.op == "contains":
            return c.value in got, seen
        if c.op == "not contains":
            return c.value not in got, seen
        return _COMPARE[c.op](got, c.value), seen
    if c.kind == "cert":
        if r.cert_days_left is None:
            return False, "no TLS certificate"
        return _COMPARE[c.op](r.cert_days_left, c.value), (
            f"certificate expires in {r.cert_days_left:.1f} days"
        )
    return _judge_json(c, r)


_MISSING = object()


def _judge_json(c: Condition, r: Response) -> tuple[bool, str]:
    try:
        doc = json.loads(r.body)
    except (json.JSONDecodeError, RecursionError):
        return False, "body is not JSON"
    value = _select(doc, c.path)
    name = "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in c.path)
    if value is _MISSING:
        return False, f"{name} not found"
    seen = f"{name} is {json.dumps(value)[:80]}"
    if c.op in _ORDER:
        if not _is_number(value):
            return False, seen
        return _COMPARE[c.op](value, c.value), seen
    same = _is_number(value) == _is_number(c.value) and value == c.value
    if isinstance(value, bool) or isinstance(c.value, bool):
        same = type(value) is type(c.value) and value == c.value
    return (same if c.op == "==" else not same), seen


def _select(doc: Any, path: tuple[str | int, ...]) -> Any:
    node = doc
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return _MISSING
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return _MISSING
            node = node[step]
    return node
