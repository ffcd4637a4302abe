"""A service that dies at once (``python -m tests.support.dies``), for the supervisor's tests."""

print("bye", flush=True)
raise SystemExit(3)
