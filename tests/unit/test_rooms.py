"""Every service has the same rooms (STYLE.md, issue 13): whatever is not the process's
wiring sits in ``domain``, ``service_layer``, ``adapters`` or ``entrypoints``, so a
newcomer always knows where to look and the layering contracts cover every module."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SERVICES = (
    "orchestrator",
    "k8s-watcher",
    "ecr-poller",
    "prober",
    "notifier",
    "log-relay",
    "gateway",
)
ROOMS = frozenset({"domain", "service_layer", "adapters", "entrypoints"})
WIRING = frozenset({"__init__.py", "__main__.py", "bootstrap.py", "config.py", "py.typed"})
EXTRA = {"gateway": frozenset({"schemas.py"})}
"""The gateway's request and response schemas (msgspec Structs) sit beside its rooms."""


def package(service: str) -> Path:
    return ROOT / "services" / service / "src" / "flightdeck" / service.replace("-", "_")


def outside_the_rooms(root: Path, allowed: frozenset[str]) -> list[str]:
    """What sits at a service package's root that is neither a room nor the wiring."""
    return sorted(
        entry.name
        for entry in root.iterdir()
        if entry.name != "__pycache__" and entry.name not in allowed
    )


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_package_holds_only_its_rooms_and_its_wiring(service: str) -> None:
    root = package(service)
    allowed = ROOMS | WIRING | EXTRA.get(service, frozenset())
    assert outside_the_rooms(root, allowed) == [], f"move these into a room of {service}"
    for room in sorted(ROOMS):
        assert (root / room / "__init__.py").is_file(), f"{service} has no {room}/"
    assert (root / "bootstrap.py").is_file() and (root / "config.py").is_file()


def test_every_service_is_checked() -> None:
    found = {p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").is_file()}
    assert found == set(SERVICES), "a new service gets the same rooms: add it to SERVICES"


def test_a_module_left_at_the_root_is_caught(tmp_path: Path) -> None:
    (tmp_path / "bootstrap.py").touch()
    (tmp_path / "pipeline.py").touch()
    (tmp_path / "domain").mkdir()
    assert outside_the_rooms(tmp_path, ROOMS | WIRING) == ["pipeline.py"]
