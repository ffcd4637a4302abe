"""The vocabulary is pure: importing every event type loads no NATS client."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

EVERY_MODULE = """
import pkgutil, sys
import flightdeck.events
for module in pkgutil.iter_modules(flightdeck.events.__path__):
    __import__(f"flightdeck.events.{module.name}")
import flightdeck.eventstore, flightdeck.eventstore.memory
print(sorted(m for m in sys.modules if m == "nats" or m.startswith("nats.")))
"""


def test_importing_the_vocabulary_and_the_port_loads_no_nats() -> None:
    # a fresh interpreter: this one has loaded nats for other tests
    out = subprocess.run(
        [sys.executable, "-c", EVERY_MODULE], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
