"""Logged tracebacks never print local variables: a secret in a frame must not reach the log."""

from __future__ import annotations

import logging

import pytest
import structlog

from flightdeck.runtime.logconfig import configure_logging

pytestmark = pytest.mark.unit

SECRET = "s3cr3t-value-that-must-not-be-logged"


def _fail_holding_a_secret() -> None:
    password = SECRET  # a local, as a handler holding a key would have
    raise RuntimeError(f"failed ({len(password)} chars)")


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_a_logged_traceback_shows_no_local_variables(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # arrange (and leave the process's logging as it was: other tests log in-process)
    saved_config, root = structlog.get_config(), logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("tests", "info", fmt)
    log = structlog.get_logger("tests")
    # act
    try:
        _fail_holding_a_secret()
    except RuntimeError:
        log.exception("it failed")
    # assert: the traceback is there, the secret is not
    err = capsys.readouterr().err
    assert "_fail_holding_a_secret" in err
    assert "RuntimeError" in err
    assert SECRET not in err
    structlog.configure(**saved_config)
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
