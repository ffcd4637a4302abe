"""Flightdeck ecr-poller: Reports when images appear in (or never reach) the registry."""
