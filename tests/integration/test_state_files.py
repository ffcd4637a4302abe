"""Everything Flightdeck writes to its state dir is the owner's alone, from the first byte.

Each file is created with mode 0600 (directories 0700), never written first and
tightened after, so another user never has a moment to open it. The process
umask is set wide open (0) here, so only the code's own care can pass.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from flightdeck.cli.system import dev_token, secrets_key
from flightdeck.readmodel.database import open_database
from flightdeck.sandbox import kubeconfig

pytestmark = pytest.mark.integration


@pytest.fixture
def open_umask() -> Iterator[None]:
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_the_secrets_key_and_dev_token_are_created_owner_only_and_kept(tmp_path: Path) -> None:
    state = tmp_path / "state"
    key = secrets_key(state)
    token = dev_token(state)
    assert mode(state / "secrets.key") == 0o600
    assert mode(state / "dev-token") == 0o600
    assert mode(state) == 0o700
    assert (secrets_key(state), dev_token(state)) == (key, token)  # kept across restarts


@pytest.mark.usefixtures("open_umask")
def test_a_kept_value_is_never_readable_by_others_even_when_writing_it_fails(
    tmp_path: Path,
) -> None:
    """Writing ``secrets.key`` then chmod-ing it left a window: a failure inside it
    (here: a value that cannot be encoded) left the file world-readable for good."""
    from flightdeck.cli.system import _kept

    path = tmp_path / "state" / "secrets.key"
    with pytest.raises(UnicodeEncodeError):
        _kept(path, lambda: "\udcff")
    assert not path.exists() or mode(path) == 0o600
    assert [p for p in path.parent.iterdir() if mode(p) & 0o077] == []


@pytest.mark.usefixtures("open_umask")
def test_a_looser_kept_file_from_an_older_version_is_tightened(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "secrets.key").write_text("old\n")
    (state / "secrets.key").chmod(0o644)
    assert secrets_key(state) == "old"
    assert mode(state / "secrets.key") == 0o600


@pytest.mark.usefixtures("open_umask")
async def test_the_sqlite_read_model_and_its_journal_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "state" / "readmodel.db"
    db = await open_database(f"sqlite+aiosqlite:///{path}")
    try:
        await db.ping()
        files = sorted(path.parent.iterdir())
        assert path in files and len(files) >= 2  # the database and its WAL
        for found in files:
            assert mode(found) == 0o600, f"{found.name} is {oct(mode(found))}"
        assert mode(path.parent) == 0o700
    finally:
        await db.close()


@pytest.mark.usefixtures("open_umask")
def test_the_sandbox_kubeconfig_is_owner_only(tmp_path: Path) -> None:
    written = kubeconfig.write(tmp_path / "sandbox" / "kubeconfig", "http://127.0.0.1:1")
    assert mode(written) == 0o600
    assert "flightdeck-sandbox" in written.read_text()
    kubeconfig.write(written, "http://127.0.0.1:2")  # again, over the old one
    assert mode(written) == 0o600 and "127.0.0.1:2" in written.read_text()
    assert [p.name for p in written.parent.iterdir()] == ["kubeconfig"]
