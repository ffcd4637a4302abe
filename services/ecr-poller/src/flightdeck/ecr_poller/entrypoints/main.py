"""The ecr-poller process, started as ``flightdeck-ecr-poller``."""

from flightdeck.runtime.service import run


def main() -> None:
    run("ecr-poller")
