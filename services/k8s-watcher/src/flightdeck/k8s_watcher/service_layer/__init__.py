"""What the entry point runs: the leader's work and each kind's resync-then-watch loop."""
