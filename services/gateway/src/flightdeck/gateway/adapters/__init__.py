"""Everything that does I/O: NATS fan-out, SQL, STS, GitHub, crypto, metrics."""
