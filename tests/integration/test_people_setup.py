"""`./dev run` where uv is private, and `flightdeck up --fresh`'s questions and refusals."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest
import typer

from flightdeck.cli.fresh import start_fresh
from flightdeck.runtime.processes import free_port
from flightdeck.runtime.settings import NatsConfig, Settings
from tests.support.cli import flightdeck

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[2]


def test_dev_run_runs_flightdeck_without_uv_on_the_path() -> None:
    path = os.pathsep.join(
        d for d in os.environ.get("PATH", "").split(os.pathsep) if not (Path(d) / "uv").exists()
    )
    done = subprocess.run(
        [str(ROOT / "dev"), "run", "flightdeck", "version"],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("flightdeck ")


def a_used_state(root: Path) -> Path:
    state = root / "state"
    for directory in ("nats/jetstream", "sandbox", "nats-auth", "logs"):
        (state / directory).mkdir(parents=True)
    for name in (
        "readmodel.db",
        "readmodel.db-wal",
        "sandbox/cluster.json",
        "secrets.key",
        "dev-token",
    ):
        (state / name).write_text("x")
    return state


def left(state: Path) -> set[str]:
    return {p.relative_to(state).as_posix() for p in state.iterdir()}


async def test_fresh_refuses_without_a_terminal_or_yes_and_deletes_nothing(tmp_path: Path) -> None:
    state = a_used_state(tmp_path)
    before = left(state)
    env = {"FLIGHTDECK_STATE_DIR": str(state), "FLIGHTDECK_NATS__PORT": str(free_port())}
    env_no_url = {k: v for k, v in os.environ.items() if k != "FLIGHTDECK_NATS__URL"}

    asked = await flightdeck("up", "--fresh", env={**env_no_url, **env})
    yes_alone = await flightdeck("up", "--yes", env={**env_no_url, **env})
    elsewhere = await flightdeck(
        "up", "--fresh", "--yes", env={**env_no_url, **env, "FLIGHTDECK_NATS__URL": "nats://x:4222"}
    )

    assert asked.code == 2 and "add --yes to confirm" in asked.err
    assert yes_alone.code == 2 and "--yes only confirms --fresh" in yes_alone.err
    assert elsewhere.code == 2 and "FLIGHTDECK_NATS__URL" in elsewhere.err
    for result in (asked, yes_alone, elsewhere):
        assert len(result.err.strip().splitlines()) == 1, result.err
    assert left(state) == before


def test_fresh_keeps_keys_and_refuses_while_the_system_runs(tmp_path: Path) -> None:
    state = a_used_state(tmp_path)
    port = free_port()
    settings = Settings(state_dir=state, nats=NatsConfig(port=port))
    with socket.socket() as running:  # something answers on this state's NATS port
        running.bind(("127.0.0.1", port))
        running.listen()
        with pytest.raises(typer.Exit) as refused:
            start_fresh(settings, yes=True)
    assert refused.value.exit_code == 2
    assert "nats" in left(state)

    start_fresh(settings, yes=True)

    assert left(state) == {"nats-auth", "logs", "secrets.key", "dev-token"}


async def test_image_push_refuses_a_bad_name_and_a_sandbox_that_is_not_running(
    tmp_path: Path,
) -> None:
    env = {"FLIGHTDECK_STATE_DIR": str(tmp_path / "state")}

    bad_name = await flightdeck("image", "push", "Shop:v1", env=env)
    no_tag = await flightdeck("image", "push", "shop", env=env)
    not_running = await flightdeck("image", "push", "shop:v1", env=env)

    assert bad_name.code == 2 and "NAME must be an image name" in bad_name.err
    assert no_tag.code == 2 and "REPOSITORY:TAG" in no_tag.err
    assert not_running.code == 1 and "the sandbox is not running" in not_running.err
    for result in (bad_name, no_tag, not_running):
        assert len(result.err.strip().splitlines()) == 1, result.err
