"""Flightdeck benchmarks: figures and ratios measured side by side, never pass/fail."""
