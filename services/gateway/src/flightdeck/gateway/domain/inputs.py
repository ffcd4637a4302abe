"""What a client may send: the grammar of each field the gateway passes on.

Every value here ends up somewhere that parses it again (an image reference in a
Kubernetes Deployment, a health path in the prober's HTTP request line, env names
in a container spec, positions in NATS requests), so each is held to the grammar
of that destination at the edge, where the client still gets a clear 400.

Patterns are written once for msgspec (Python ``re.search``) and the OpenAPI
document (ECMA-262): :func:`whole` anchors them so that both read them alike,
including Python's ``$``, which would otherwise accept one trailing newline.
"""

from __future__ import annotations

import re

MAX_POSITION = 2**63 - 1
"""The largest stream position (a NATS sequence is a signed 64-bit number on the wire)."""


def whole(body: str) -> str:
    """``body`` matching the whole value, never a value with a trailing newline."""
    return rf"^(?:{body})(?!\n)$"


# OCI distribution reference grammar (github.com/distribution/reference, regexp.go).
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_HOST = rf"(?:{_DOMAIN}|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
IMAGE_REPOSITORY = whole(rf"(?:{_HOST}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
"""``[registry[:port]/]path/to/name``: lowercase path components, as ``docker pull`` reads them."""
IMAGE_REPOSITORY_MAX = 255
IMAGE_TAG = whole(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
"""A tag: a word character, then up to 127 word characters, dots and dashes."""

_PCHAR = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})"
HEALTH_PATH = whole(rf"/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?(?:\?(?:{_PCHAR}|[/?])*)?")
"""An absolute URL path (RFC 3986 ``path-absolute``: never ``//``, which would name a
host), with an optional query."""
HEALTH_PATH_MAX = 512

ENV_NAME = whole(r"[A-Za-z_][A-Za-z0-9_]*")
"""A C identifier: what every shell and container runtime accepts as a variable name."""
ENV_MAX_ENTRIES = 100
ENV_MAX_BYTES = 32 * 1024
"""Names and values together, UTF-8: a container spec, not a data channel."""

GIT_BRANCH = whole(r"[^\x00-\x20\x7f~^:?*\[\\]+")
"""Printable, no spaces, none of the characters ``git check-ref-format`` refuses."""

_DOT_SEGMENT = re.compile(r"(?:^|/)(?:\.|%2[eE]){1,2}(?:/|\?|$)")


def health_path_problem(path: str) -> str | None:
    """Why ``path`` is no health path, or ``None``; beyond :data:`HEALTH_PATH`, dot segments
    (``/../``, ``/%2e%2e/``): the prober must ask for the path it was given, not another."""
    if not re.search(HEALTH_PATH, path):
        return "healthPath: must be an absolute URL path of printable characters, like /health"
    if _DOT_SEGMENT.search(path.partition("?")[0]):
        return "healthPath: must not contain . or .. segments"
    return None


def env_problem(env: dict[str, str]) -> str | None:
    """Why ``env`` is too large, or ``None`` (names are checked by :data:`ENV_NAME`)."""
    if len(env) > ENV_MAX_ENTRIES:
        return f"env: at most {ENV_MAX_ENTRIES} variables"
    size = sum(len(k.encode()) + len(v.encode()) for k, v in env.items())
    if size > ENV_MAX_BYTES:
        return f"env: at most {ENV_MAX_BYTES} bytes of names and values in total"
    if any("\x00" in v for v in env.values()):
        return "env: a value cannot hold a NUL character"
    return None


def branch_problem(branch: str) -> str | None:
    """Why ``branch`` is no git branch name, or ``None`` (``git check-ref-format`` rules)."""
    if (
        ".." in branch
        or "@{" in branch
        or branch.startswith(("-", "/", "."))
        or branch.endswith(("/", ".", ".lock"))
        or "//" in branch
        or "/." in branch
    ):
        return "branch: not a valid git branch name"
    return None


_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_position(text: str) -> int:
    """A stream position: ASCII digits, 0 to :data:`MAX_POSITION`; ``ValueError`` otherwise.

    ``int()`` alone would take ``+1``, ``1_000``, non-ASCII digits and numbers no
    NATS request can carry (which failed later, as a 500 or a silent stream).
    """
    if not _DIGITS.fullmatch(text):
        raise ValueError(f"not a position: {text[:40]!r}")
    value = int(text)
    if value > MAX_POSITION:
        raise ValueError(f"a position is at most {MAX_POSITION}")
    return value
