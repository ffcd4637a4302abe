"""What the controllers call: command handlers, log reading, admission, and the objects that own
the gateway's mutable state (open connections, pending deployments, key cache)."""
