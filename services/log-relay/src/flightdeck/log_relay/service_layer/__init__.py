"""What the entry point runs: the handlers, the relay, and each container's follower and outbox."""
