"""Base classes of every event and command.

Events are facts in the past tense, commands are requests in the imperative;
both are frozen msgspec Structs whose ``type`` tag lets one decoder read a whole
stream's union in one call. ``schema_version`` is bumped whenever a type's shape
changes incompatibly; an upcaster (see :mod:`flightdeck.events.upcasting`) then
lifts older payloads to the current shape on read.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec


class Message(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Anything that travels on a stream: an event or a command."""

    schema_version: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        """The tag written in the payload's ``type`` field and in ``ce-type``."""
        tag = cls.__struct_config__.tag
        assert isinstance(tag, str), f"{cls.__name__} has no string tag"
        return tag


class Event(Message, frozen=True, kw_only=True):
    """An immutable fact. Never edited, never deleted, only appended."""


class Command(Message, frozen=True, kw_only=True):
    """A request to a service. Validated, then it becomes events or an error."""
