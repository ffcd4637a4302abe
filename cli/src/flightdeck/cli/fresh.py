"""``flightdeck up --fresh``: start from nothing, after asking.

What goes is what makes up the system's memory, and only what lives in the state
dir: the embedded NATS store (the event history), the SQLite read model and the
sandbox's cluster (its objects and ECR images). Kept: keys and credentials
(``secrets.key``, ``dev-token``, the NATS users), settings and logs, so keys people
hold stay good. History kept elsewhere (``FLIGHTDECK_NATS__URL``,
``FLIGHTDECK_DATABASE_URL``) is not this command's to delete: it refuses.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from pathlib import Path

import typer

from flightdeck.cli.output import fail
from flightdeck.runtime.settings import DEFAULT_NATS_PORT, Settings

READ_MODEL_FILES = ("readmodel.db", "readmodel.db-wal", "readmodel.db-shm", "readmodel.db-journal")


def fresh_paths(state: Path) -> list[Path]:
    """What ``--fresh`` deletes in ``state``: the history, the read model, the cluster."""
    return [state / "nats", *(state / name for name in READ_MODEL_FILES), state / "sandbox"]


def _refusal(settings: Settings) -> str | None:
    if settings.nats.url is not None:
        return (
            "--fresh clears the embedded NATS store, but FLIGHTDECK_NATS__URL points at "
            "another server: clear its streams there, or unset it"
        )
    if settings.database_url:
        return (
            "--fresh clears the read model in the state dir, but FLIGHTDECK_DATABASE_URL "
            "names another database: drop it there, or unset it"
        )
    if _running(settings):
        return f"Flightdeck is running on {settings.state_dir}: stop it (Ctrl-C) first"
    return None


def _running(settings: Settings) -> bool:
    """Something still uses the state: its NATS port answers, or its sandbox lives."""
    port = settings.nats.port or DEFAULT_NATS_PORT
    with socket.socket() as probe:
        probe.settimeout(0.5)
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return True
    try:
        pid = int(json.loads((settings.state_dir / "sandbox" / "ready.json").read_text())["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


def start_fresh(settings: Settings, *, yes: bool) -> None:
    """Ask (unless ``yes``), then delete :func:`fresh_paths`; a one-line refusal otherwise."""
    state = settings.state_dir
    if refusal := _refusal(settings):
        raise fail(refusal, 2)
    present = [p for p in fresh_paths(state) if p.exists()]
    if not present:
        return
    if not yes:
        if not sys.stdin.isatty():
            raise fail(
                f"--fresh deletes the event history, read model and sandbox cluster in {state}: "
                "add --yes to confirm (there is no terminal to ask on)",
                2,
            )
        if not typer.confirm(
            f"Delete the event history, read model and sandbox cluster in {state}?",
            default=False,
        ):
            raise fail("nothing deleted", 1)
    for path in present:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
