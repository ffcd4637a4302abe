"""The pipeline's rules, pure: a deployment's state is a fold over its events
(:mod:`.state`), and what happens next is a decision from that state and one
input (:mod:`.decide`). Only the standard library and ``flightdeck.events``
are imported here; the clock arrives as ``now``.
"""
