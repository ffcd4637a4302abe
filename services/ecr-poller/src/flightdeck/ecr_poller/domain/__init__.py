"""The watches the poller keeps and when it polls, pure."""
