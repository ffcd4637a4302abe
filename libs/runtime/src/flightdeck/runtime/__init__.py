"""What every Flightdeck process shares: settings, logs, NATS, the service lifecycle."""
