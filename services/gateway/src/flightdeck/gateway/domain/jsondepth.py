"""How deeply a JSON document nests, found without decoding it.

A decoder recurses once per ``[`` or ``{``: ``[`` x 100,000 used to end in a 500
after seconds. This scan runs before any decoder sees the bytes, in a few passes
at C speed (``bytes.replace``, ``translate``, ``split``), never a Python loop
over the bytes.

Strings are removed first, so brackets inside them do not count: every
backslash in valid JSON starts a two-character escape, so removing ``\\\\``
pairs, then ``\\"``, leaves only the quotes that open and close strings.
Braces are then counted as brackets (the decoder still refuses ``[}``), so each
pass of ``replace(b"[]", b"")`` removes exactly one level.
"""

from __future__ import annotations

MAX_DEPTH = 32
"""Deeper than any request body or WebSocket message of this API (the deepest is 3)."""

_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")
_DROP = bytes(b for b in range(256) if b not in b'"[]{}')


class TooDeep(ValueError):
    """The document nests deeper than allowed, or its brackets do not balance."""


def check_depth(raw: bytes, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`TooDeep` unless ``raw``'s brackets balance within ``limit`` levels.

    Anything else wrong with the document is left to the decoder, which then
    recurses at most ``limit`` levels.
    """
    if b"[" not in raw and b"{" not in raw:
        return
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    bare = raw.translate(_AS_BRACKETS, _DROP)
    brackets = b"".join(bare.split(b'"')[::2])  # outside strings (an unterminated one too)
    if b"[" * (limit + 1) in brackets:
        raise TooDeep(f"the JSON nests deeper than {limit} levels")
    for _ in range(limit):
        if not brackets:
            return
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            raise TooDeep("the JSON's brackets do not balance")
        brackets = shorter
    if brackets:
        raise TooDeep(f"the JSON nests deeper than {limit} levels")
