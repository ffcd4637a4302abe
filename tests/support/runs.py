"""Rules for a whole test run, applied by ``tests/conftest.py``'s hooks.

- A run in which no test passed is not a success: pytest itself fails a run
  that collected nothing (exit 5), but one whose every test was skipped (no
  kubectl, no PostgreSQL, a wrong ``-k``) or deselected would exit 0.
- ``tests/unit`` runs without NATS: a unit test that asks, even through
  another fixture, for the run's nats-server is refused at collection. (Its
  sources are checked for sleeps and servers by ``tests/unit/test_hygiene.py``.)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

UNIT = Path(__file__).parents[1] / "unit"
SERVER_FIXTURES = frozenset({"nats_server"})


def fail_if_nothing_passed(session: pytest.Session) -> None:
    """Turn an exit 0 without a single passed test into exit 5 (no tests ran), saying why."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    ran = session.testscollected and not session.config.option.collectonly
    if session.exitstatus != pytest.ExitCode.OK or reporter is None or not ran:
        return
    if not reporter.stats.get("passed"):
        reporter.write_line("no test passed: a run that tested nothing is not a success", red=True)
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED


def refuse_servers_in_unit_tests(items: Sequence[pytest.Item], unit: Path = UNIT) -> None:
    """Unit tests run without a server: fail the run if one asks for the nats-server."""
    offenders = [
        item.nodeid
        for item in items
        if item.path.is_relative_to(unit)
        and SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
    ]
    if offenders:
        raise pytest.UsageError(
            "unit tests must not use NATS (move them to tests/integration): " + ", ".join(offenders)
        )
