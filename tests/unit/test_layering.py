"""The layering contracts catch a wrong arrow (issue 13, item 7).

``./dev test`` runs ``lint-imports`` with the contracts of the root
``pyproject.toml``. Here the same tool and the same contracts run against a copy
of the source tree, first as it is (every contract kept), then with modules
added that each break one rule; each must be reported under exactly the
contracts it breaks, so a contract that stopped biting (a typo in a module
name, a wildcard that matches nothing) fails this test. One run checks every
wrong module: building the import graph is what takes the time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
NAMES = {contract["id"]: contract["name"] for contract in CONFIG["contracts"]}
SERVICES = sorted(
    f"flightdeck.{p.name.replace('-', '_')}"
    for p in (ROOT / "services").iterdir()
    if (p / "pyproject.toml").is_file()
)
SOURCES = [
    *ROOT.glob("libs/*/src"),
    *ROOT.glob("services/*/src"),
    ROOT / "cli/src",
    ROOT / "sandbox/src",
]


def lint_imports(cwd: Path, pythonpath: list[Path] | None = None) -> tuple[int, str]:
    """``lint-imports`` in ``cwd``; with ``pythonpath``, Python starts without site
    (no editable installs), so ``flightdeck`` is only what that path holds."""
    env = {**os.environ, "COLUMNS": "400"}  # one line per contract in the summary
    command = [sys.executable]
    if pythonpath is not None:
        command.append("-S")
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    command += [
        "-c",
        "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())",
        "--no-cache",
        "--no-logo",
    ]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


def broken(output: str) -> set[str]:
    """The ids of the contracts the summary reports broken."""
    return {cid for cid, name in NAMES.items() if f"{name} BROKEN" in output}


def reports(output: str) -> dict[str, str]:
    """Each broken contract's report (its violations), by contract id."""
    details = output.partition("Broken contracts")[2]
    starts = sorted(
        (details.index(f"\n{name}\n-"), cid)
        for cid, name in NAMES.items()
        if f"\n{name}\n-" in details
    )
    ends = [at for at, _ in starts[1:]] + [len(details)]
    return {cid: details[at:end] for (at, cid), end in zip(starts, ends, strict=True)}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every package's sources merged into one ``src/flightdeck``, with the root pyproject."""
    root = tmp_path_factory.mktemp("tree")
    for src in SOURCES:
        shutil.copytree(
            src / "flightdeck",
            root / "src" / "flightdeck",
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def check(tree: Path) -> tuple[int, str]:
    site = {Path(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")}
    return lint_imports(tree, [tree / "src", *sorted(site)])


def test_the_tree_keeps_every_contract() -> None:
    code, output = lint_imports(ROOT)
    assert code == 0, output
    assert broken(output) == set()
    assert f"{len(NAMES)} kept, 0 broken" in output


def test_the_copied_tree_keeps_every_contract(tree: Path) -> None:
    code, output = check(tree)
    assert code == 0, output
    assert f"{len(NAMES)} kept, 0 broken" in output


WRONG = {
    "prober.domain.zz_http": ("import httpx", {"domain-pure"}),
    "orchestrator.domain.zz_clock": ("import time", {"domain-pure"}),
    "prober.service_layer.zz_adapter": (
        "from flightdeck.prober.adapters import http",
        {"service-rooms"},
    ),
    "k8s_watcher.adapters.zz_service_layer": (
        "from flightdeck.k8s_watcher.service_layer import watching",
        {"service-rooms"},
    ),
    "ecr_poller.service_layer.zz_bootstrap": (
        "from flightdeck.ecr_poller import bootstrap",
        {"service-rooms"},
    ),
    "log_relay.domain.zz_entrypoint": (
        "from flightdeck.log_relay.entrypoints import main",
        {"service-rooms", "domain-pure"},  # the process reaches every I/O library
    ),
    "prober.service_layer.zz_other_service": (
        "from flightdeck.orchestrator.domain import state",
        {"services-independent"},
    ),
    "events.zz_runtime": ("from flightdeck.runtime import settings", {"vocabulary-pure"}),
    "events.zz_nats": ("import nats", {"vocabulary-pure", "nats-in-its-adapters"}),
    "runtime.zz_service": ("from flightdeck.gateway import config", {"libraries-below-services"}),
    "cli.zz_sandbox": ("import flightdeck.sandbox", {"sandbox-only-embedded"}),
    "cli.zz_embedded": ("from flightdeck.cli import system", {"embedded-mode-only-from-up"}),
    "cli.zz_service": (
        "from flightdeck.prober import bootstrap",
        {"cli-knows-services-by-settings"},
    ),
    "gateway.adapters.zz_sandbox": (
        "from flightdeck.sandbox import Sandbox",
        {"services-without-sandbox", "sandbox-only-embedded"},
    ),
    "log_relay.adapters.zz_nats": ("import nats", {"nats-in-its-adapters"}),
    "client.zz_runtime": ("from flightdeck.runtime import settings", {"client-standalone"}),
    # FastStream only in the runtime (its consumers, ADR 0019), never in a service's rooms
    "orchestrator.service_layer.zz_faststream": (
        "from faststream.nats import NatsBroker",
        {"nats-in-its-adapters"},
    ),
}
"""Modules to add (under ``flightdeck.``): their one import, and the contracts it breaks."""


@pytest.fixture(scope="module")
def wrong_run(tree: Path) -> tuple[int, str]:
    """One ``lint-imports`` run over the tree with every module of :data:`WRONG` added
    (and removed again before any other test looks at the tree)."""
    # arrange: one module per wrong arrow
    paths = []
    for module, (source, _) in WRONG.items():
        path = tree / "src" / "flightdeck" / f"{module.replace('.', '/')}.py"
        path.write_text(source + "\n")
        paths.append(path)
    try:
        # act
        return check(tree)
    finally:
        for path in paths:
            path.unlink()


def test_a_wrong_arrow_fails_the_run(wrong_run: tuple[int, str]) -> None:
    code, output = wrong_run
    assert code == 1, output
    every = set().union(*(contracts for _, contracts in WRONG.values()))
    assert broken(output) == every == set(NAMES), "each contract is shown to bite"


@pytest.mark.parametrize("module", sorted(WRONG))
def test_a_wrong_arrow_is_reported_under_its_contract(
    wrong_run: tuple[int, str], module: str
) -> None:
    _, output = wrong_run
    _, contracts = WRONG[module]
    where = {cid for cid, report in reports(output).items() if f"flightdeck.{module}" in report}
    assert where == contracts, output


def test_every_service_is_under_the_contracts() -> None:
    contracts = {contract["id"]: contract for contract in CONFIG["contracts"]}
    assert sorted(contracts["services-independent"]["modules"]) == SERVICES
    assert sorted(contracts["service-rooms"]["containers"]) == SERVICES
    assert sorted(contracts["services-without-sandbox"]["source_modules"]) == SERVICES
    below = set(contracts["libraries-below-services"]["forbidden_modules"])
    assert set(SERVICES) <= below, "a new service: add it to every contract that lists them"
