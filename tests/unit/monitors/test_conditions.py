"""Monitor conditions (issue 15 item 1, ADR 0027): parsed once, judged on each response."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightdeck.runtime.conditions import (
    MAX_CONDITIONS,
    ConditionError,
    Response,
    evaluate,
    parse,
    parse_all,
)

pytestmark = pytest.mark.unit

OK = Response(
    status=200,
    elapsed_ms=120.0,
    body=json.dumps({"status": "ok", "items": [{"state": "up", "n": 3}], "odd key": True}),
    headers={"Content-Type": "application/json; charset=utf-8"},
    cert_days_left=45.0,
)
DOWN = Response(status=503, elapsed_ms=2500.0, body="<h1>error</h1>", headers={})


@pytest.mark.parametrize(
    ("condition", "on_ok", "on_down"),
    [
        ("[STATUS] == 200", True, False),
        ("[STATUS] != 200", False, True),
        ("[STATUS] < 400", True, False),
        ("[STATUS] >= 500", False, True),
        ("[STATUS] in 200..299", True, False),
        ("[STATUS] in (200, 204, 500..599)", True, True),
        ("[STATUS] not in 500..599", True, False),
        ("[RESPONSE_TIME] < 500ms", True, False),
        ("[RESPONSE_TIME] <= 120", True, False),
        ('[BODY] contains "ok"', True, False),
        ('[BODY] not contains "error"', True, False),
        ('$.status == "ok"', True, False),
        ('$.status != "ok"', False, False),  # no JSON body: a JSON condition fails
        ('$.items[0].state == "up"', True, False),
        ("$.items[0].n > 2", True, False),
        ('$["odd key"] == true', True, False),
        ("$.items[1].state == null", False, False),  # missing is not null
        ('[HEADER:content-type] contains "json"', True, False),
        ('[HEADER:Content-Type] not contains "html"', True, True),
        ("[CERTIFICATE_EXPIRATION] > 30 days", True, False),
        ("[CERTIFICATE_EXPIRATION] < 7d", False, False),
    ],
)
def test_each_form_judges_a_response(condition: str, on_ok: bool, on_down: bool) -> None:
    parsed = parse(condition)
    assert parsed.evaluate(OK).ok is on_ok
    assert parsed.evaluate(DOWN).ok is on_down


def test_an_outcome_says_what_was_seen() -> None:
    out = evaluate(parse_all(["[STATUS] == 200", '$.status == "ok"']), DOWN)
    assert [(o.ok, o.detail) for o in out] == [
        (False, "status 503"),
        (False, "body is not JSON"),
    ]
    (seen,) = evaluate([parse('$.items[0].state == "down"')], OK)
    assert seen.detail == '$.items[0].state is "up"'


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("[FOO] == 1", r"unknown placeholder \[FOO\]"),
        ("[STATUS] == ok", "not a condition"),
        ("[STATUS] in 300..200", "not a range"),
        ("[STATUS] in (200, abc)", "'abc' is not a status"),
        ("[BODY] contains ok", "not a condition"),
        ("[BODY] contains 'ok'", "not a condition"),
        ("$.a[*] == 1", "unsupported at"),
        ("$..a == 1", "unsupported at"),
        ('$.a < "x"', "compares numbers"),
        ("$.a == {}", "compare with a string"),
        ("$.a == nope", "not a JSON value"),
        ("[CERTIFICATE_EXPIRATION] > 30 weeks", "not a condition"),
        ("", "is empty"),
        ("status is 200", "not a condition"),
    ],
)
def test_a_bad_condition_is_named_in_one_line(condition: str, message: str) -> None:
    with pytest.raises(ConditionError, match=message) as caught:
        parse(condition)
    assert "\n" not in str(caught.value)
    assert repr(condition.strip()) in str(caught.value) or not condition


def test_too_many_conditions() -> None:
    with pytest.raises(ConditionError, match=f"at most {MAX_CONDITIONS}"):
        parse_all(["[STATUS] == 200"] * (MAX_CONDITIONS + 1))


@given(st.integers(100, 599), st.integers(100, 599), st.integers(100, 599))
def test_a_status_range_agrees_with_arithmetic(low: int, high: int, status: int) -> None:
    low, high = min(low, high), max(low, high)
    got = parse(f"[STATUS] in {low}..{high}").evaluate(Response(status=status, elapsed_ms=1))
    assert got.ok is (low <= status <= high)
    negated = parse(f"[STATUS] not in {low}..{high}").evaluate(
        Response(status=status, elapsed_ms=1)
    )
    assert negated.ok is not got.ok


@given(st.text(max_size=30), st.text(max_size=60))
def test_body_contains_is_substring_for_any_text(needle: str, body: str) -> None:
    cond = parse(f"[BODY] contains {json.dumps(needle)}")
    assert cond.evaluate(Response(status=200, elapsed_ms=1, body=body)).ok is (needle in body)


json_scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=20)


@given(
    st.lists(st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True), min_size=1, max_size=4),
    json_scalars,
)
def test_a_path_finds_what_was_put_there(keys: list[str], value: object) -> None:
    doc: object = value
    for key in reversed(keys):
        doc = {key: doc}
    cond = parse("$." + ".".join(keys) + " == " + json.dumps(value))
    assert cond.evaluate(Response(status=200, elapsed_ms=1, body=json.dumps(doc))).ok


@given(st.text(max_size=80))
def test_parse_either_succeeds_or_raises_a_condition_error(text: str) -> None:
    try:
        parse(text)
    except ConditionError as exc:
        error = exc
    else:
        return
    assert "\n" not in error.why
