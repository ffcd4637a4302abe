"""Flightdeck log-relay: Follows pod logs and publishes them as events."""
