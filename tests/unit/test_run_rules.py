"""A test run that tested nothing fails; a unit test that asks for NATS is refused."""

from __future__ import annotations

import pytest

from tests.support.runs import SERVER_FIXTURES

pytestmark = pytest.mark.unit

RULES = """
from tests.support.runs import fail_if_nothing_passed, refuse_servers_in_unit_tests

def pytest_collection_modifyitems(config, items):
    refuse_servers_in_unit_tests(items, unit=config.rootpath / "unit")

def pytest_sessionfinish(session):
    fail_if_nothing_passed(session)
"""


ARGS = ("-p", "no:cacheprovider", "-p", "no:asyncio")


@pytest.fixture
def run(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(RULES)
    return pytester


def test_a_run_whose_every_test_skipped_fails(run: pytest.Pytester) -> None:
    run.makepyfile(test_skipped="import pytest\n\ndef test_x():\n    pytest.skip('no kubectl')\n")
    result = run.runpytest(*ARGS)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["*no test passed*"])
    assert run.runpytest(*ARGS, "--collect-only").ret == pytest.ExitCode.OK  # only listing


def test_a_run_that_deselected_everything_fails(run: pytest.Pytester) -> None:
    run.makepyfile(test_one="def test_x():\n    pass\n")
    result = run.runpytest(*ARGS, "-k", "nothing_matches")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_a_run_with_a_passing_test_passes_even_if_others_skip(run: pytest.Pytester) -> None:
    run.makepyfile(
        test_mixed="import pytest\n\ndef test_ok():\n    pass\n\n"
        "def test_skipped():\n    pytest.skip('later')\n"
    )
    assert run.runpytest(*ARGS).ret == pytest.ExitCode.OK


def test_a_unit_test_asking_for_the_server_fixture_is_refused(run: pytest.Pytester) -> None:
    (server,) = SERVER_FIXTURES  # a stand-in of the same name, and a fixture that uses it
    run.makeconftest(
        RULES + f"\nimport pytest\n\n@pytest.fixture\ndef {server}():\n    return object()\n\n"
        f"@pytest.fixture\ndef store({server}):\n    return object()\n"
    )
    unit = run.mkdir("unit")
    (unit / "test_needs_nats.py").write_text("def test_x(store):\n    pass\n")
    (run.path / "test_integration.py").write_text("def test_y(store):\n    pass\n")
    result = run.runpytest(*ARGS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unit tests must not use NATS*unit/test_needs_nats.py::test_x"])
    assert run.runpytest(*ARGS, "test_integration.py").ret == 0
