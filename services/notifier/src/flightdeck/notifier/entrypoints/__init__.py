"""The process (wired in a later step)."""
