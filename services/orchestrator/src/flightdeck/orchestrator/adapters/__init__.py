"""Everything the orchestrator does to the outside world: NATS, Kubernetes, the clock."""
