"""Unit tests wait for nothing and need no server: no sleeps, no NATS.

``await asyncio.sleep(0)`` is allowed: it waits for nothing, it lets the tasks
that are ready run. A test that needs time to pass or a nats-server belongs in
``tests/integration`` (``tests/support/runs.py`` also refuses, at collection, a
unit test that asks for the nats-server fixture).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

UNIT = Path(__file__).parent
FORBIDDEN = re.compile(
    r"time\.sleep\("
    r"|asyncio\.sleep\((?!0\))"
    r"|\bNatsServer\b|\bnats_server\b"
    r"|nats\.connect\(|flightdeck\.runtime\.connection"
)


def offences(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if path == Path(__file__):
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if FORBIDDEN.search(line):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_no_unit_test_sleeps_or_talks_to_nats() -> None:
    assert offences(UNIT) == []


def test_the_check_finds_what_it_forbids(tmp_path: Path) -> None:
    (tmp_path / "test_bad.py").write_text(
        "await asyncio.sleep(0.1)\ntime.sleep(1)\nserver = NatsServer(d)\n"
        "await asyncio.sleep(0)\nasync def test(nats_server): ...\n"
    )
    assert [o.split(":")[1] for o in offences(tmp_path)] == ["1", "2", "3", "5"]
