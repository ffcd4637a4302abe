"""The process: the durable consumer of incidents, started as ``flightdeck-notifier``."""
