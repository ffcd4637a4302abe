"""nats-py's errors as the port's, so that callers handle them without knowing NATS.

A server that does not answer, or a connection that is away, is
:class:`~flightdeck.events.errors.StoreUnavailable`; an error the server
answered with is an :class:`~flightdeck.events.errors.EventStoreError`.
nats-py's ``TimeoutError`` is left alone: it already is a ``TimeoutError``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, ParamSpec, TypeVar

import nats.errors
from nats.js.errors import APIError

from flightdeck.events.errors import EventStoreError, StoreUnavailable

P = ParamSpec("P")
T = TypeVar("T")


@contextlib.contextmanager
def translated(what: str) -> Iterator[None]:
    """Raise nats-py's errors from the block as the port's (``what`` says what failed)."""
    try:
        yield
    except APIError as exc:
        raise EventStoreError(f"{what}: {exc}") from exc
    except nats.errors.Error as exc:
        if isinstance(exc, TimeoutError):
            raise
        raise StoreUnavailable(f"{what}: {exc!r}") from exc


def translating(
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """A coroutine method whose nats-py errors come out as the port's."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with translated(method.__name__):
            return await method(*args, **kwargs)

    return wrapper
