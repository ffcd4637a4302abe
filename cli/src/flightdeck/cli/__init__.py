"""The ``flightdeck`` command, the one thing a user types."""
