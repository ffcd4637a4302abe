"""The SQL read model: a disposable projection of the event streams.

The gateway answers GETs from these tables; the projector fills them and can
drop and rebuild them from sequence 1 at any time, giving the same rows.
"""
