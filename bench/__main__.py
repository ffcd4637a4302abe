"""``just bench``: run every benchmark (or those named) and print their figures."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from bench import event_store, readmodel
from flightdeck.runtime import eventloop

SUITES: dict[str, Callable[[], Awaitable[None]]] = {
    "event-store": event_store.run,
    "sse": lambda: __import__("bench.sse", fromlist=["run"]).run(),
    "readmodel": readmodel.run,
    "pipeline": lambda: __import__("bench.pipeline", fromlist=["run"]).run(),
    "logs": lambda: __import__("bench.logs", fromlist=["run"]).run(),
    "logs-node": lambda: __import__("bench.logs", fromlist=["run"]).run(mode="node"),
    "ops": lambda: __import__("bench.ops", fromlist=["run"]).run(),
    "appview": lambda: __import__("bench.appview", fromlist=["run"]).run(),
    "consumers": lambda: __import__("bench.consumers", fromlist=["run"]).run(),
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="just bench", description=__doc__)
    parser.add_argument("suites", nargs="*", choices=[*SUITES, []], help="default: all")
    names = parser.parse_args().suites or list(SUITES)
    for name in names:
        eventloop.run(SUITES[name]())


main()
