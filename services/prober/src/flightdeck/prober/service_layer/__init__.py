"""What the entry point calls: the handler of each command and the verification it runs."""
