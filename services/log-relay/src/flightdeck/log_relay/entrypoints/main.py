"""The log-relay process, started as ``flightdeck-log-relay``."""

from flightdeck.runtime.service import run


def main() -> None:
    run("log-relay")
