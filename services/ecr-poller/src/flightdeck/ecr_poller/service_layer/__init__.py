"""What the entry point calls: the handler of each command and the poller it drives."""
